"""The envelope, the error table and the request guards, without a database."""

import base64
import json
import math
from pathlib import Path
from typing import Any

import pytest

from reckoning import errors
from reckoning.envelope import ok
from reckoning.http import ERROR_TABLE, create_app, error_response, field_errors, parse_json
from reckoning_local.events import LambdaContext, http_event


def body_of(response: Any) -> Any:
    return json.loads(response.body if hasattr(response, "body") else response["body"])


def test_success_envelope() -> None:
    assert body_of(ok({"a": 1}, status=201)) == {"success": True, "data": {"a": 1}}


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (errors.ValidationFailed([errors.FieldError("email", "bad")]), 400, "VALIDATION_ERROR"),
        (errors.InvalidSignature("x"), 400, "INVALID_SIGNATURE"),
        (errors.NotFound("secret detail"), 404, "NOT_FOUND"),
        (errors.Conflict("x"), 409, "CONFLICT"),
        (errors.PayloadTooLarge("x"), 413, "PAYLOAD_TOO_LARGE"),
        (errors.UnsupportedMediaType("x"), 415, "UNSUPPORTED_MEDIA_TYPE"),
        (errors.RateLimited(17), 429, "RATE_LIMITED"),
        (errors.ServiceUnavailable("db down"), 503, "SERVICE_UNAVAILABLE"),
        (ValueError("boom: internal detail"), 500, "INTERNAL_ERROR"),
    ],
)
def test_every_error_maps_to_a_fixed_public_message(exc: Exception, status: int, code: str) -> None:
    response = error_response(exc)
    body = body_of(response)
    assert response.status_code == status
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert "detail" not in body["error"]["message"] and "db down" not in body["error"]["message"]


def test_retry_after_is_set_for_rate_limits_and_outages() -> None:
    assert error_response(errors.RateLimited(17)).headers["Retry-After"] == "17"
    assert error_response(errors.ServiceUnavailable("x", retry_after=9)).headers["Retry-After"] == "9"


def _error_classes() -> list[type[errors.ReckoningError]]:
    """Every error class `reckoning.errors` defines, found by looking, not listed by hand."""
    found = [
        value for value in vars(errors).values() if isinstance(value, type) and value.__module__ == errors.__name__
    ]
    return [cls for cls in found if issubclass(cls, errors.ReckoningError)]


def test_the_error_classes_are_found() -> None:
    assert {errors.ReckoningError, errors.NotFound, errors.WebhookFailed} <= set(_error_classes())
    found: list[type] = list(_error_classes())
    assert errors.FieldError not in found  # a dataclass of that module, not an error


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_the_table_covers_every_public_domain_error(cls: type[errors.ReckoningError]) -> None:
    assert cls in ERROR_TABLE, f"add {cls.__name__} to reckoning.http.ERROR_TABLE"
    arguments: dict[type, tuple[Any, ...]] = {
        errors.ValidationFailed: ([errors.FieldError("f", "m")],),
        errors.RateLimited: (3,),
        errors.IdempotencyKeyInFlight: (2,),
        errors.SpendLimitReached: ("spent 5 of 5 USD today", 60),
        errors.ProviderBusy: ("RateLimitError", 30.0),
    }
    exc = cls(*arguments.get(cls, ("cause",)))
    status, code = ERROR_TABLE[cls]
    response = error_response(exc)
    assert (response.status_code, body_of(response)["error"]["code"]) == (status, code)


def test_a_webhook_failure_is_a_500_so_that_stripe_delivers_again() -> None:
    response = error_response(errors.WebhookFailed("ServiceUnavailable"))
    assert (response.status_code, body_of(response)["error"]) == (
        500,
        {"code": "INTERNAL_ERROR", "message": "Internal error.", "requestId": response.headers["X-Request-Id"]},
    )


def test_field_errors_drop_the_location_prefix_and_keep_one_per_field() -> None:
    raw = [
        {"loc": ("body", "email"), "type": "value_error", "msg": "Value error, Must be a valid email address."},
        {"loc": ("body", "email"), "type": "string_too_long", "msg": "too long"},
        {"loc": ("body", "consent"), "type": "missing", "msg": "Field required"},
        {"loc": ("body", "extra"), "type": "extra_forbidden", "msg": "Extra inputs are not permitted"},
    ]
    assert [(e.field, e.message) for e in field_errors(raw)] == [
        ("email", "Must be a valid email address."),
        ("consent", "This field is required."),
        ("extra", "This field is not allowed."),
    ]


def _echo_app() -> Any:
    app = create_app()

    @app.post("/echo")
    def echo() -> Any:
        return ok({"echo": True})

    return app


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({"content-type": "text/plain"}, "hello", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ({}, "{}", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ({"content-type": "application/json"}, "x" * (64 * 1024 + 1), 413, "PAYLOAD_TOO_LARGE"),
    ],
)
def test_guards_refuse_before_any_route_runs(headers: dict[str, str], body: str, status: int, code: str) -> None:
    event = http_event("POST", "/echo", route_key="POST /echo", headers=headers, body=body)
    response = _echo_app().resolve(event, LambdaContext())
    assert response["statusCode"] == status
    assert body_of(response)["error"]["code"] == code
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"
    assert response["headers"]["Cache-Control"] == "no-store"


def test_security_headers_on_success() -> None:
    event = http_event("POST", "/echo", route_key="POST /echo", headers={"content-type": "application/json"}, body="{}")
    response = _echo_app().resolve(event, LambdaContext())
    assert response["statusCode"] == 200
    assert response["headers"]["Referrer-Policy"] == "no-referrer"
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"


def test_unknown_route_is_our_404() -> None:
    event = http_event("GET", "/nope")
    response = _echo_app().resolve(event, LambdaContext())
    assert response["statusCode"] == 404
    request_id = event["requestContext"]["requestId"]
    assert body_of(response)["error"] == {"code": "NOT_FOUND", "message": "Not found.", "requestId": request_id}
    assert response["headers"]["X-Request-Id"] == request_id


def _raw_length_app() -> Any:
    app = create_app(raw_body=True)

    @app.post("/echo")
    def length() -> Any:
        return ok({"length": len(base64.b64decode(app.current_event.body or ""))})

    return app


def test_a_body_that_is_not_utf8_is_refused_unless_the_app_reads_the_raw_bytes() -> None:
    event = http_event(
        "POST", "/echo", route_key="POST /echo", headers={"content-type": "application/json"}, body=b'{"a": "\xff"}'
    )
    assert event["isBase64Encoded"] is True  # as API Gateway passes bytes that are not UTF-8

    refused = _echo_app().resolve(event, LambdaContext())
    assert refused["statusCode"] == 400
    assert body_of(refused)["error"]["details"] == [{"field": "body", "message": "The body is not valid UTF-8."}]

    passed = _raw_length_app().resolve(event, LambdaContext())
    assert (passed["statusCode"], body_of(passed)["data"]) == (200, {"length": 10})


def test_json_bodies_keep_their_numbers_exact_and_out_of_range_ones_infinite() -> None:
    assert parse_json('{"n": ' + "9" * 4300 + "}")["n"] == int("9" * 4300)
    assert parse_json("[1e400, -1e400, -" + "9" * 4301 + "]") == [math.inf, -math.inf, -math.inf]
    assert parse_json("[0.5, -0, 1E2]") == [0.5, 0, 100.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[NaN]", "The body is not valid JSON: NaN and Infinity are not JSON numbers."),
        ('{"a": -Infinity}', "The body is not valid JSON: NaN and Infinity are not JSON numbers."),
        ("[1,]", "The body is not valid JSON."),
        ("[" * 33 + "]" * 33, "The body is nested more than 32 levels deep."),
        ('{"a":' * 33 + "1" + "}" * 33, "The body is nested more than 32 levels deep."),
        ("[" * 100_000, "The body is nested more than 32 levels deep."),
    ],
)
def test_json_that_is_not_json_or_nests_too_deep_is_refused_on_the_body(text: str, message: str) -> None:
    with pytest.raises(errors.ValidationFailed) as refused:
        parse_json(text)
    assert [(d.field, d.message) for d in refused.value.details] == [("body", message)]


def test_nesting_up_to_the_bound_is_accepted() -> None:
    assert parse_json("[" * 32 + "]" * 32) == json.loads("[" * 32 + "]" * 32)
    assert parse_json('{"a":' * 31 + "[]" + "}" * 31)


def test_the_request_id_and_the_polling_headers_are_exposed_to_browsers_on_another_origin(env: Any) -> None:
    env(CORS_ORIGIN="https://app.example.com")
    event = http_event("POST", "/echo", route_key="POST /echo", headers={"origin": "https://app.example.com"})
    response = _echo_app().resolve(event, LambdaContext())
    exposed = {name.strip().lower() for name in response["headers"]["Access-Control-Expose-Headers"].split(",")}
    assert {"x-request-id", "etag", "retry-after", "idempotent-replayed"} <= exposed
    assert response["headers"]["X-Request-Id"] == event["requestContext"]["requestId"]


def test_the_http_api_exposes_the_same_headers() -> None:
    from reckoning_local.template import load

    template = load(Path(__file__).resolve().parents[2] / "template.yaml")
    exposed = {name.lower() for cors in template.cors.values() for name in cors.expose_headers}
    assert {"x-request-id", "etag", "retry-after", "idempotent-replayed"} <= exposed
