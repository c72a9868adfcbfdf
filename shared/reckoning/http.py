"""The HTTP layer every API function shares.

`create_app()` returns a Powertools HTTP API (v2) resolver that
- refuses bodies over the cap (413), non-JSON bodies (415) and bodies that are not UTF-8 (400) before
  anything else,
- reads JSON bodies strictly (RFC 8259 only, bounded nesting; see `parse_json`),
- rate-limits per client IP and route in PostgreSQL (429 + Retry-After),
- turns request validation errors into our 400 envelope with field details,
- maps domain errors through one table,
- adds the security headers of DESIGN §3 to every response, and
- answers every request with its id (`X-Request-Id`: API Gateway's requestId, or a fresh one), which error
  bodies quote as `error.requestId` and the logs carry as their correlation id.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import (
    OpenAPIResponse,
    OpenAPIResponseContentModel,
    OpenAPIResponseHeader,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from reckoning import errors
from reckoning.config import settings
from reckoning.envelope import JSON, REQUEST_ID_HEADER, Envelope, ErrorCode, ErrorEnvelope, fail, request_id
from reckoning.observability import logger

SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

INTERNAL = (500, ErrorCode.INTERNAL_ERROR)
# What a browser on another origin may read of an answer (CORSConfig here, the HttpApi's CorsConfiguration in
# template.yaml): the polling hint, the cache validator, the replay mark and the id support asks for.
EXPOSED_HEADERS = ["ETag", "Retry-After", "Idempotent-Replayed", REQUEST_ID_HEADER]

# The one table from domain errors to HTTP: (status, code). Every error of `reckoning.errors` has its line.
ERROR_TABLE: dict[type[errors.ReckoningError], tuple[int, ErrorCode]] = {
    errors.ValidationFailed: (400, ErrorCode.VALIDATION_ERROR),
    errors.InvalidSignature: (400, ErrorCode.INVALID_SIGNATURE),
    errors.NotFound: (404, ErrorCode.NOT_FOUND),
    errors.Gone: (404, ErrorCode.NOT_FOUND),
    errors.Conflict: (409, ErrorCode.CONFLICT),
    errors.IdempotencyKeyReused: (409, ErrorCode.CONFLICT),
    errors.IdempotencyKeyInFlight: (409, ErrorCode.CONFLICT),  # with Retry-After
    errors.PayloadTooLarge: (413, ErrorCode.PAYLOAD_TOO_LARGE),
    errors.UnsupportedMediaType: (415, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    errors.RateLimited: (429, ErrorCode.RATE_LIMITED),
    errors.ServiceUnavailable: (503, ErrorCode.SERVICE_UNAVAILABLE),
    errors.TransientFailure: (503, ErrorCode.SERVICE_UNAVAILABLE),
    errors.SpendLimitReached: (503, ErrorCode.SERVICE_UNAVAILABLE),  # the worker's; no route raises it
    errors.ProviderBusy: (503, ErrorCode.SERVICE_UNAVAILABLE),  # the worker's too
    # Stripe retries any 5xx: a delivery that failed before its commit is delivered again.
    errors.WebhookFailed: INTERNAL,
    # Our configuration or our bug (a spent idempotency key is turned into a 503 where it can be retried).
    errors.PermanentFailure: INTERNAL,
    errors.IdempotencyKeySpent: INTERNAL,
    errors.Superseded: INTERNAL,  # the worker's only: it stops and logs
    errors.ReckoningError: INTERNAL,
}

# Our bodies nest three levels (body → answers → a list); this leaves room and stops a body that nests
# thousands of levels before it reaches pydantic, whose errors would then name a field thousands long.
MAX_JSON_DEPTH = 32
# CPython converts at most this many digits to an int (CVE-2020-10735); see `_integer`.
_INT_MAX_DIGITS = 4300


def documented(
    status: int, model: type[BaseModel] | Any, description: str, headers: dict[str, str] | None = None
) -> dict[int, OpenAPIResponse]:
    """The success response of a route for the OpenAPI document: our envelope around `model` (a model, or a
    discriminated union of models), and the optional response headers named in `headers`, with what each means."""
    envelope = Envelope[model]  # type: ignore[valid-type]
    response: OpenAPIResponse = {"description": description, "content": {JSON: {"model": envelope}}}
    if headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
        }
    return {status: response}


def conflict(description: str) -> dict[int, OpenAPIResponse]:
    """A route's own 409 for the OpenAPI document, and the Retry-After it carries when a key is in flight."""
    retry: OpenAPIResponseHeader = {
        "description": "Seconds to wait: a request with the same Idempotency-Key is still running.",
        "schema": {"type": "string"},
    }
    content: OpenAPIResponseContentModel = {"model": ErrorEnvelope}
    return {409: {"description": description, "headers": {"Retry-After": retry}, "content": {JSON: content}}}


def bodiless(status: int, description: str, header: str) -> dict[int, OpenAPIResponse]:
    """A response without a body (a redirect, not modified) for the OpenAPI document, and its header."""
    return {
        status: {
            "description": description,
            # OpenAPI's Header Object has `required`; Powertools' TypedDict leaves it out but keeps it.
            "headers": {header: {"required": True, "schema": {"type": "string"}}},  # type: ignore[typeddict-unknown-key]
            "content": {},
        }
    }


def revalidated(response: Response[str], version: str, if_none_match: str | None) -> Response[str]:
    """A representation a browser may keep and revalidate: ETag `"<version>"`, and 304 when it already holds it."""
    caching = {"ETag": f'"{version}"', "Cache-Control": "private, no-cache"}
    if if_none_match == caching["ETag"]:
        return Response(status_code=304, body="", headers=caching)
    response.headers.update(caching)
    return response


RateLimiter = Callable[[str, str], None]
"""(route key, client ip) -> None, raising RateLimited."""


def error_response(exc: Exception) -> Response[str]:
    status, code = next(
        (mapped for cls, mapped in ERROR_TABLE.items() if isinstance(exc, cls)),
        INTERNAL,
    )
    if status >= 500:
        logger.exception("request failed", extra={"error_class": type(exc).__name__})
    else:
        logger.info("request refused", extra={"error_class": type(exc).__name__, "status": status})
    message = exc.public_message if isinstance(exc, errors.ReckoningError) and status != 500 else "Internal error."
    details = exc.details if isinstance(exc, errors.ValidationFailed) else None
    headers = {}
    if isinstance(exc, errors.RateLimited | errors.ServiceUnavailable | errors.IdempotencyKeyInFlight):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, errors.TransientFailure):
        headers["Retry-After"] = "5"
    return fail(status, code, message, details, headers)


def field_errors(validation_errors: list[dict[str, Any]]) -> list[errors.FieldError]:
    """Powertools/pydantic error dicts → one `{field, message}` per field."""
    details: dict[str, errors.FieldError] = {}
    for err in validation_errors:
        loc = [str(part) for part in err.get("loc", ())]
        if loc and loc[0] in {"body", "path", "query", "header"}:
            loc = loc[1:]
        field = ".".join(loc) or "body"
        details.setdefault(field, errors.FieldError(field, _plain_message(err)))
    return list(details.values())


def _plain_message(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    if kind == "missing":
        return "This field is required."
    if kind == "extra_forbidden":
        return "This field is not allowed."
    msg = str(err.get("msg", "Invalid value."))
    return msg.removeprefix("Value error, ")


def _body_error(message: str) -> errors.ValidationFailed:
    return errors.ValidationFailed([errors.FieldError("body", message)])


def parse_json(text: str) -> Any:
    """A request body as JSON, refusing what would otherwise fail later as a 500.

    Only RFC 8259 JSON (no `NaN` or `Infinity`), nested at most `MAX_JSON_DEPTH` levels. Numbers keep
    JSON's meaning: integers stay exact, and a number beyond a float's range reads as ±infinity (as
    JavaScript reads it), which every numeric check then refuses with the field's name.
    """
    try:
        value = json.loads(text, parse_constant=_not_a_json_number, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise _body_error("The body is not valid JSON.") from exc
    except RecursionError as exc:  # the C scanner's own bound, far above ours
        raise _body_error(f"The body is nested more than {MAX_JSON_DEPTH} levels deep.") from exc
    # Each level opens with a bracket: a text with few of them cannot nest deeply (the usual case, no walk).
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        raise _body_error(f"The body is nested more than {MAX_JSON_DEPTH} levels deep.")
    return value


def _not_a_json_number(name: str) -> Any:
    raise _body_error("The body is not valid JSON: NaN and Infinity are not JSON numbers.")


def _integer(digits: str) -> int | float:
    # int() refuses longer digit strings with a ValueError; any such number is beyond a float's range too.
    if len(digits.lstrip("-")) > _INT_MAX_DIGITS:
        return float(digits)
    return int(digits)


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value` (walked without recursion)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            children = node.values() if isinstance(node, dict) else node
            pending.extend((child, depth + 1) for child in children)
    return deepest


def _is_utf8(event: Mapping[str, Any], body: str) -> bool:
    try:
        if event.get("isBase64Encoded"):
            base64.b64decode(body, validate=True).decode()
        else:
            body.encode()  # a text body from the runtime can still hold lone surrogates
    except (binascii.Error, UnicodeError):
        return False
    return True


class ReckoningResolver(APIGatewayHttpResolver):
    """Powertools' payload-2.0 resolver (HTTP API and function URLs alike) with our guards
    in front and our headers behind.

    `raw_body`: the routes read the raw body themselves (the webhook verifies a signature over the exact
    bytes), so it is not refused here for not being UTF-8.
    """

    def __init__(self, rate_limiter: RateLimiter | None = None, *, raw_body: bool = False) -> None:
        super().__init__(
            enable_validation=True,
            cors=CORSConfig(allow_origin=settings().cors_origin, max_age=600, expose_headers=EXPOSED_HEADERS),
            json_body_deserializer=parse_json,
        )
        self._rate_limiter = rate_limiter
        self._raw_body = raw_body

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        rid = request_id_of(event)
        # The log lines of this request carry it as their correlation id: the id `correlation_id_path` finds, or the
        # fresh one. A key of this thread's (the local stack answers requests from several threads at once).
        logger.thread_safe_append_keys(correlation_id=rid)
        bound = request_id.set(rid)
        try:
            result = self._answer(event, context)
        finally:
            request_id.reset(bound)
            logger.thread_safe_remove_keys(["correlation_id"])
        result.setdefault("headers", {})[REQUEST_ID_HEADER] = rid
        return result

    def _answer(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            self._guard(event)
        except Exception as exc:  # a refusal, or a failure of the rate limiter's own: our envelope either way
            refused = error_response(exc)
            refused.headers.update(SECURITY_HEADERS)
            refused.headers.setdefault("Cache-Control", "no-store")
            return _as_v2(refused)
        result = super().resolve(event, context)
        headers = result.setdefault("headers", {})
        for name, value in SECURITY_HEADERS.items():
            headers.setdefault(name, value)
        headers.setdefault("Cache-Control", "no-store")
        return result

    def _guard(self, event: Mapping[str, Any]) -> None:
        body = event.get("body")
        if body:
            self._check_body(event, body)
        if self._rate_limiter is not None:
            ctx = event.get("requestContext") or {}
            route = str(ctx.get("routeKey", ""))
            ip = str((ctx.get("http") or {}).get("sourceIp", "unknown"))
            self._rate_limiter(route, ip)

    def _check_body(self, event: Mapping[str, Any], body: str) -> None:
        size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode(errors="surrogatepass"))
        if size > settings().max_body_bytes:
            raise errors.PayloadTooLarge(f"{size} bytes")
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise errors.UnsupportedMediaType(media_type or "none")
        # JSON between systems is UTF-8 (RFC 8259 §8.1); API Gateway passes other bytes base64-encoded.
        if not self._raw_body and not _is_utf8(event, body):
            raise _body_error("The body is not valid UTF-8.")


def request_id_of(event: Mapping[str, Any]) -> str:
    """API Gateway's id of the request (also a function URL's, and the local gateway's); a fresh uuid4 when the
    event has none (a test's hand-made event)."""
    context = event.get("requestContext")
    found = context.get("requestId") if isinstance(context, Mapping) else None
    return found if isinstance(found, str) and found else str(uuid.uuid4())


def _as_v2(response: Response[str]) -> dict[str, Any]:
    headers = {k: v if isinstance(v, str) else ",".join(v) for k, v in response.headers.items()}
    return {"statusCode": response.status_code, "headers": headers, "body": response.body, "isBase64Encoded": False}


def create_app(rate_limiter: RateLimiter | None = None, *, raw_body: bool = False) -> ReckoningResolver:
    app = ReckoningResolver(rate_limiter, raw_body=raw_body)

    def _invalid(exc: RequestValidationError) -> Response[str]:
        return error_response(errors.ValidationFailed(field_errors(list(exc.errors()))))

    app.exception_handler(RequestValidationError)(_invalid)
    app.exception_handler([errors.ReckoningError, Exception])(error_response)

    @app.not_found
    def _no_route(exc: Exception) -> Response[str]:
        return error_response(errors.NotFound("no route"))

    return app
