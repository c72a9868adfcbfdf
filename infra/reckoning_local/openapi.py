"""The OpenAPI 3.1 document of every HTTP function in template.yaml, generated from the route definitions.

Each function's Powertools resolver describes its own routes; this merges them, replaces Powertools'
default 422 with our 400 envelope, lists each route's own error answers (status, and the codes each can carry:
`ERRORS`), declares the headers a route reads itself and those its answers carry, and moves the Stripe webhook
under `webhooks` (DESIGN §3).
`python -m reckoning_local.openapi` rewrites `docs/openapi.json`; a test fails when it drifts. The local
stack serves it at `GET /api/openapi.json` (`PAGES`).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from reckoning.envelope import ErrorCode, ErrorEnvelope
from reckoning.models.api import IDEMPOTENCY_KEY_PARAMETER
from reckoning_local import template as tpl
from reckoning_local.loader import import_file
from reckoning_local.server import SECURE_HEADERS, Page, PageRequest, Response

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "openapi.json"
SCHEMAS = "#/components/schemas/"
HEADERS = "#/components/headers/"

E = ErrorCode
# What each error status means, whatever the route.
_STATUS_TEXT = {
    400: "The request is invalid: one {field, message} per invalid field.",
    404: "NOT_FOUND: unknown, malformed, expired or revoked token (one identical body).",
    409: "CONFLICT: the request conflicts with the reckoning's current state.",
    413: "PAYLOAD_TOO_LARGE: bodies over 64 KiB.",
    415: "UNSUPPORTED_MEDIA_TYPE: bodies must be application/json.",
    429: "RATE_LIMITED: too many requests from this address; retry after Retry-After seconds.",
    500: "INTERNAL_ERROR: our fault; quote the requestId to support.",
    503: "SERVICE_UNAVAILABLE: the database or a provider is down or slow; retry after Retry-After seconds.",
}
# The error codes each operation can answer, by status. Every route's guard refuses a body over the cap (413), not
# JSON (415) or not UTF-8 (400), on any method; the rate-limited functions answer 429; what asks the database 503.
_GUARDED: dict[int, tuple[ErrorCode, ...]] = {
    400: (E.VALIDATION_ERROR,),
    413: (E.PAYLOAD_TOO_LARGE,),
    415: (E.UNSUPPORTED_MEDIA_TYPE,),
    429: (E.RATE_LIMITED,),
    500: (E.INTERNAL_ERROR,),
}
_DATABASE = {503: (E.SERVICE_UNAVAILABLE,)}
_TOKEN = {404: (E.NOT_FOUND,)}
_CONFLICT = {409: (E.CONFLICT,)}
ERRORS: dict[str, dict[int, tuple[ErrorCode, ...]]] = {
    "getQuestionnaire": _GUARDED,  # served from the build, not the database
    "submitReckoning": {**_GUARDED, **_CONFLICT, **_DATABASE},
    "startCheckout": {**_GUARDED, **_TOKEN, **_CONFLICT, **_DATABASE},
    "getReport": {**_GUARDED, **_TOKEN, **_DATABASE},
    "getReportPdf": {**_GUARDED, **_TOKEN, **_CONFLICT, **_DATABASE},
    "exportReport": {**_GUARDED, **_TOKEN, **_DATABASE},
    "eraseReport": {**_GUARDED, **_TOKEN, **_DATABASE},
    "requestReportLinks": {**_GUARDED, **_DATABASE},
    # Not rate-limited (Stripe's own address space); any failure after verification is a 500, so Stripe retries.
    "receiveStripeEvent": {
        400: (E.INVALID_SIGNATURE, E.VALIDATION_ERROR),
        413: (E.PAYLOAD_TOO_LARGE,),
        415: (E.UNSUPPORTED_MEDIA_TYPE,),
        500: (E.INTERNAL_ERROR,),
    },
}
# Powertools' models of its 422 answer: every route answers our 400 envelope instead.
_POWERTOOLS_422 = ("HTTPValidationError", "ResponseValidationError", "ValidationError")

# Response headers, declared once (components.headers) and referenced by the answers that carry them.
_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "This request's id (API Gateway's): error bodies quote it as error.requestId, and the logs "
        "carry it as their correlation id. Quote it to support.",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again (or polling again).",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "Retry-After-If-In-Flight": {
        "description": "Seconds to wait: only when a request with the same Idempotency-Key is still running.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "Retry-After-While-Waiting": {
        "description": "Seconds until the next poll, while the report is not ready (retryAfterSeconds).",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "ETag": {
        "description": 'The ready report\'s version, "<id>-v<n>": send it back as If-None-Match to get 304 while '
        "it is unchanged.",
        "required": True,
        "schema": {"type": "string"},
    },
    "ETag-When-Ready": {
        "description": "Only when the status is ready: the report's version, for If-None-Match.",
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "true: the first answer to this Idempotency-Key and body, again.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Location": {
        "description": "A presigned URL of the PDF, valid for at most 300 s.",
        "required": True,
        "schema": {"type": "string"},
    },
}
# Which answer carries which header (beyond X-Request-Id, which every answer carries): (operationId or "*", status).
_RESPONSE_HEADERS: dict[tuple[str, str], dict[str, str]] = {
    ("*", "429"): {"Retry-After": "Retry-After"},
    ("*", "503"): {"Retry-After": "Retry-After"},
    ("submitReckoning", "409"): {"Retry-After": "Retry-After-If-In-Flight"},
    ("startCheckout", "409"): {"Retry-After": "Retry-After-If-In-Flight"},
    ("submitReckoning", "201"): {"Idempotent-Replayed": "Idempotent-Replayed"},
    ("startCheckout", "200"): {"Idempotent-Replayed": "Idempotent-Replayed"},
    ("getReport", "200"): {"Retry-After": "Retry-After-While-Waiting", "ETag": "ETag-When-Ready"},
    ("getReport", "304"): {"ETag": "ETag"},
    ("getReportPdf", "302"): {"Location": "Location"},
}
_IF_NONE_MATCH: dict[str, Any] = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the ready report held: 304 (no body) while it is unchanged.",
    "schema": {"type": "string"},
}

# The webhook reads its body and signature itself (the signature covers the exact bytes, so nothing may parse them
# first); the document still says what a request carries. It is Stripe's to call, on the function URL (not under
# /api), so the document lists it under `webhooks`, not among the paths a client calls.
_WEBHOOK_PATH = "/webhooks/stripe"
_WEBHOOK_NAME = "stripeEvent"
_WEBHOOK_REQUEST: dict[str, Any] = {
    "description": "Stripe sends its events to the webhook function's URL (a Lambda function URL in AWS; "
    "`/webhooks/stripe` on the local stack). Registered in Stripe's dashboard, never called by a client.",
    "parameters": [
        {
            "name": "Stripe-Signature",
            "in": "header",
            "required": True,
            "description": "Stripe's signature of the body: t=<timestamp>,v1=<HMAC-SHA256 hex>.",
            "schema": {"type": "string"},
        }
    ],
    "requestBody": {
        "required": True,
        "description": "A Stripe event, exactly as Stripe sent it.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
}
_IDEMPOTENT = ("submitReckoning", "startCheckout")
SERVERS = [
    {
        "url": "/",
        "description": "The origin that serves this document and the web client: the CloudFront distribution in "
        "production, `make dev` locally (http://127.0.0.1:3000).",
    }
]


def document(template_path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    template = tpl.load(template_path)
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for function in template.functions.values():
        if not function.routes and function.url_path is None:
            continue
        module = import_file(function.source_file, f"reckoning_openapi_{function.logical_id}")
        schema = module.app.get_openapi_schema(title="Reckoning", version="1")
        part = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
        paths.update(part.get("paths", {}))
        schemas.update(part.get("components", {}).get("schemas", {}))
    envelope = ErrorEnvelope.model_json_schema(ref_template=SCHEMAS + "{model}")
    schemas.update(envelope.pop("$defs", {}), ErrorEnvelope=envelope)
    for name in _POWERTOOLS_422:
        del schemas[name]
    webhook = paths.pop(_WEBHOOK_PATH)["post"]
    webhook.update(_WEBHOOK_REQUEST)
    operations = [op for ops in paths.values() for op in ops.values()] + [webhook]
    for operation in operations:
        _errors(operation, schemas)
        _headers(operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Reckoning API",
            "version": "1",
            "description": "Questionnaire, checkout and report access. "
            'Success: {"success": true, "data": …}; failure: {"success": false, "error": {code, message, '
            "requestId}}, with only the codes listed for the route and status. Every answer carries X-Request-Id.",
        },
        "servers": SERVERS,
        "paths": dict(sorted(paths.items())),
        "webhooks": {_WEBHOOK_NAME: {"post": webhook}},
        "components": {"schemas": dict(sorted(schemas.items())), "headers": _HEADERS},
    }


def error_schema_name(codes: tuple[ErrorCode, ...]) -> str:
    """NOT_FOUND -> NotFoundError; VALIDATION_ERROR -> ValidationError; two codes -> AOrBError."""
    words = "Or".join("".join(part.title() for part in code.value.split("_")).removesuffix("Error") for code in codes)
    return words + "Error"


def _error_schema(codes: tuple[ErrorCode, ...]) -> dict[str, Any]:
    """Our error envelope with `code` one of `codes` (and `details` where a 400 VALIDATION_ERROR has them)."""
    body: dict[str, Any] = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "enum": [code.value for code in codes]},
            "message": {"type": "string"},
            "requestId": {"type": "string", "description": "As in the X-Request-Id header: quote it to support."},
        },
        "required": ["code", "message", "requestId"],
        "additionalProperties": False,
    }
    if E.VALIDATION_ERROR in codes:
        body["properties"]["details"] = {
            "type": "array",
            "items": {"$ref": SCHEMAS + "ErrorDetail"},
            "description": "One entry per invalid field.",
        }
    return {
        "type": "object",
        "title": error_schema_name(codes),
        "properties": {"success": {"type": "boolean", "const": False}, "error": body},
        "required": ["success", "error"],
        "additionalProperties": False,
    }


def _errors(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """The route's own error answers, each with the codes it can carry; no others (and no Powertools 422)."""
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    errors = ERRORS[operation["operationId"]]
    for status in [s for s in responses if int(s) >= 400 and int(s) not in errors]:
        del responses[status]
    for status, codes in errors.items():
        name = error_schema_name(codes)
        schemas.setdefault(name, _error_schema(codes))
        described = responses.get(str(status), {}).get("description")
        codes_text = " or ".join(code.value for code in codes)
        responses[str(status)] = {
            "description": described or f"{codes_text}. {_STATUS_TEXT[status]}",
            "content": {"application/json": {"schema": {"$ref": SCHEMAS + name}}},
        }
    operation["responses"] = dict(sorted(responses.items()))


def _headers(operation: dict[str, Any]) -> None:
    op = operation["operationId"]
    for status, response in operation["responses"].items():
        headers = {"X-Request-Id": {"$ref": HEADERS + "X-Request-Id"}}
        for key in (("*", status), (op, status)):
            headers.update({name: {"$ref": HEADERS + ref} for name, ref in _RESPONSE_HEADERS.get(key, {}).items()})
        response["headers"] = headers
    parameters = operation.setdefault("parameters", [])
    if op in _IDEMPOTENT:  # the routes read these headers themselves: the document says what they take
        parameters.append(IDEMPOTENCY_KEY_PARAMETER)
    if op == "getReport":
        parameters.append(_IF_NONE_MATCH)
    if not parameters:
        del operation["parameters"]


def _page(_: PageRequest) -> Response:
    return Response(
        200, [("Content-Type", "application/json"), *SECURE_HEADERS.items()], json.dumps(document()).encode()
    )


PAGES = (Page("GET", re.compile(r"/api/openapi\.json"), _page),)


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    COMMITTED.write_text(render())
    print(f"wrote {COMMITTED.relative_to(ROOT)}", file=sys.stderr)
