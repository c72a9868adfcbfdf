"""The OpenAPI 3.1 document of every HTTP function in template.yaml, generated from the route definitions.

Each function's Powertools resolver describes its own routes; this merges them, replaces Powertools'
default 422 with our 400 envelope, and adds the error responses every route can give (DESIGN §3).
`python -m reckoning_local.openapi` rewrites `docs/openapi.json`; a test fails when it drifts. The local
stack serves it at `GET /api/openapi.json` (`PAGES`).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from reckoning.envelope import ErrorEnvelope
from reckoning.models.api import IDEMPOTENCY_KEY_PARAMETER
from reckoning_local import template as tpl
from reckoning_local.loader import import_file
from reckoning_local.server import SECURE_HEADERS, Page, PageRequest, Response

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "openapi.json"
_ERRORS = {
    "400": "VALIDATION_ERROR with one {field, message} per invalid field (INVALID_SIGNATURE for the webhook).",
    "404": "NOT_FOUND: unknown, malformed, expired or revoked token (one identical body).",
    "409": "CONFLICT: e.g. checkout of a paid reckoning, PDF not ready.",
    "413": "PAYLOAD_TOO_LARGE: bodies over 64 KiB.",
    "415": "UNSUPPORTED_MEDIA_TYPE: bodies must be application/json.",
    "429": "RATE_LIMITED; see Retry-After.",
    "500": "INTERNAL_ERROR.",
    "503": "SERVICE_UNAVAILABLE (database or dependency down); see Retry-After.",
}
# Powertools' models of its 422 answer: every route answers our 400 envelope instead.
_POWERTOOLS_422 = ("HTTPValidationError", "ResponseValidationError", "ValidationError")

# The webhook route reads its body and signature itself (the signature covers the exact bytes, so nothing
# may parse them first); the document still says what a request carries.
_WEBHOOK_PATH = "/webhooks/stripe"
_WEBHOOK_REQUEST: dict[str, Any] = {
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


_IDEMPOTENT = ("/api/reckoning", "/api/checkout")


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
    envelope = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(envelope.pop("$defs", {}), ErrorEnvelope=envelope)
    for name in _POWERTOOLS_422:
        del schemas[name]
    for operations in paths.values():
        for operation in operations.values():
            _our_errors(operation)
    if _WEBHOOK_PATH in paths:
        paths[_WEBHOOK_PATH]["post"].update(_WEBHOOK_REQUEST)
    for path in _IDEMPOTENT:  # the routes read the header themselves: the document says what they take
        if path in paths:
            paths[path]["post"].setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Reckoning API",
            "version": "1",
            "description": "Questionnaire, checkout, Stripe webhook and report access. "
            'Success: {"success": true, "data": …}; failure: {"success": false, "error": {code, message}}.',
        },
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


def _our_errors(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
    for status, description in _ERRORS.items():
        responses.setdefault(status, {"description": description, "content": ref})
    operation["responses"] = dict(sorted(responses.items()))


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
