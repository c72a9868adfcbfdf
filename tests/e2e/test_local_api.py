"""The HTTP contract of DESIGN §3, over real HTTP against the local stack built from template.yaml."""

from __future__ import annotations

import http.client
import json
import secrets
import socket
from typing import Any

import psycopg
import pytest

from reckoning_local import client
from reckoning_local.stack import Stack
from tests.conftest import StartStack
from tests.helpers import count, submission, without_request_id

pytestmark = [
    pytest.mark.e2e,
    # Powertools warns when a handler publishes no metrics; locally metrics are disabled anyway.
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

SECURITY_HEADERS = {"referrer-policy": "no-referrer", "x-content-type-options": "nosniff"}


def post_submission(stack: Stack, body: Any, **kw: Any) -> client.HttpResult:
    return client.request("POST", f"{stack.url}/api/reckoning", json_body=body, **kw)


def assert_secure(result: client.HttpResult, cache: str | None = "no-store") -> None:
    """The headers DESIGN §3 puts on every response (`cache` None: any explicit Cache-Control)."""
    for name, value in SECURITY_HEADERS.items():
        assert result.headers.get(name) == value, name
    assert "cache-control" in result.headers
    if cache is not None:
        assert result.headers["cache-control"] == cache


def assert_nothing_stored(pg: psycopg.Connection[Any]) -> None:
    assert count(pg, "reckonings") == 0
    assert count(pg, "access_tokens") == 0


def test_the_questionnaire_is_served_from_the_template_route(stack: Stack) -> None:
    result = client.request("GET", f"{stack.url}/api/questionnaire")

    assert result.status == 200
    assert result.json["success"] is True
    assert result.data["questions"]
    assert_secure(result, cache=None)  # the questionnaire may be cached publicly


def test_a_submission_is_stored_and_its_report_status_asks_to_come_back_later(
    stack: Stack, pg: psycopg.Connection[Any]
) -> None:
    created = post_submission(stack, submission())

    assert created.status == 201
    assert_secure(created)
    token = created.data["token"]
    assert created.data["reportUrl"] == f"/api/report/{token}"
    assert count(pg, "reckonings") == 1
    assert count(pg, "access_tokens") == 1

    status = client.request("GET", stack.url + created.data["reportUrl"])

    assert status.status == 200
    assert status.data["status"] == "awaiting_payment"
    assert int(status.headers["retry-after"]) > 0
    assert_secure(status)


def _answers(**changes: Any) -> dict[str, Any]:
    body = submission()
    for key, value in changes.items():
        if value is None:
            del body["answers"][key]
        else:
            body["answers"][key] = value
    return body


def _without(field: str) -> dict[str, Any]:
    body = submission()
    del body[field]
    return body


INVALID_SUBMISSIONS = {
    "a choice that is not an option": (_answers(money_situation="rich"), "answers.money_situation"),
    "an unknown question": (_answers(favourite_colour="blue"), "answers.favourite_colour"),
    "a missing required answer": (_answers(proud_of=None), "answers.proud_of"),
    "a wrong type": (_answers(life_overall="six"), "answers.life_overall"),
    "a value out of range": (_answers(life_overall=11), "answers.life_overall"),
    "an over-long text": (_answers(one_sentence="x" * 281), "answers.one_sentence"),
    "control characters": (_answers(proud_of="I finished the race\u0007 in April."), "answers.proud_of"),
    "consent not given": (submission(consent=False), "consent"),
    "consent missing": (_without("consent"), "consent"),
    "a bad email": (submission(email="not-an-email"), "email"),
}


@pytest.mark.parametrize(("body", "field"), INVALID_SUBMISSIONS.values(), ids=INVALID_SUBMISSIONS.keys())
def test_an_invalid_submission_is_refused_with_field_details_and_stores_nothing(
    stack: Stack, pg: psycopg.Connection[Any], body: dict[str, Any], field: str
) -> None:
    result = post_submission(stack, body)

    assert result.status == 400
    assert result.error["code"] == "VALIDATION_ERROR"
    assert field in [detail["field"] for detail in result.error["details"]]
    assert_secure(result)
    assert_nothing_stored(pg)


@pytest.mark.parametrize("token", ["abc", "not-a-token!", "%2e%2e%2fsecret"])
def test_unknown_and_malformed_tokens_get_one_identical_404(stack: Stack, token: str) -> None:
    unknown = client.request("GET", f"{stack.url}/api/report/{secrets.token_urlsafe(32)}")
    malformed = client.request("GET", f"{stack.url}/api/report/{token}")

    assert unknown.status == malformed.status == 404
    # The same bytes but for each request's own id (of the same length).
    assert without_request_id(unknown.json) == without_request_id(malformed.json)
    assert len(unknown.raw) == len(malformed.raw)
    assert unknown.error["code"] == "NOT_FOUND"
    assert unknown.error["requestId"] == unknown.headers["x-request-id"] != malformed.headers["x-request-id"]
    assert_secure(malformed)


def test_a_body_over_64_kib_is_refused_with_413(stack: Stack, pg: psycopg.Connection[Any]) -> None:
    body = submission(answers={**submission()["answers"], "padding": "x" * (64 * 1024)})

    result = post_submission(stack, body)

    assert result.status == 413
    assert result.error["code"] == "PAYLOAD_TOO_LARGE"
    assert_secure(result)
    assert_nothing_stored(pg)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_refused_with_415(
    stack: Stack, pg: psycopg.Connection[Any], content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}

    result = client.request("POST", f"{stack.url}/api/reckoning", body=json.dumps(submission()), headers=headers)

    assert result.status == 415
    assert result.error["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert_secure(result)
    assert_nothing_stored(pg)


def test_submitting_too_often_is_refused_with_429_and_retry_after(
    start_stack: StartStack, pg: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_SUBMIT", "2")  # the caller's environment wins over the template
    stack = start_stack(pollers=False)

    statuses = [post_submission(stack, submission()).status for _ in range(2)]
    refused = post_submission(stack, submission())

    assert statuses == [201, 201]
    assert refused.status == 429
    assert refused.error["code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) > 0
    assert_secure(refused)
    assert count(pg, "reckonings") == 2
    assert count(pg, "access_tokens") == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nothing-here"),
        ("GET", "/api"),  # `/` is the web client's (test_web_serving.py); `/api/*` stays the gateway's
        ("POST", "/"),
        ("GET", "/api/report/"),
        ("DELETE", "/api/questionnaire"),
        ("HEAD", "/api/questionnaire"),
        ("PUT", "/api/reckoning"),
        ("OPTIONS", "/api/reckoning"),  # no Origin / Access-Control-Request-Method: not a preflight
        ("TRACE", "/api/questionnaire"),
        ("TRACE", "/"),
        ("PROPFIND", "/api/reckoning"),
        ("BREW", "/api/report/links"),
    ],
)
def test_what_no_template_route_serves_gets_api_gateways_json_404(stack: Stack, method: str, path: str) -> None:
    result = client.request(method, f"{stack.url}{path}")

    assert result.status == 404
    assert result.headers["content-type"] == "application/json"
    if method != "HEAD":
        assert result.json == {"message": "Not Found"}


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        (b"GARBAGE\r\n\r\n", 400, "Bad Request"),
        (b"GET /api/questionnaire HTTP/9.9\r\n\r\n", 505, "HTTP Version Not Supported"),
        (b"POST /api/reckoning HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, "Bad Request"),
        (b"POST /api/reckoning HTTP/1.1\r\nContent-Length: lots\r\n\r\n", 400, "Bad Request"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "URI Too Long"),
    ],
    ids=["request line", "version", "negative length", "length not a number", "request line too long"],
)
def test_requests_that_cannot_be_parsed_get_json_never_html(
    stack: Stack, raw: bytes, status: int, message: str
) -> None:
    host, port = stack.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()

    assert response.status == status
    assert response.getheader("Content-Type") == "application/json"
    assert json.loads(body) == {"message": message}


def test_cors_preflight_is_answered_for_the_configured_origin(stack: Stack) -> None:
    origin = stack.environment["CORS_ORIGIN"]

    result = client.request(
        "OPTIONS",
        f"{stack.url}/api/reckoning",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert result.status == 204
    assert result.headers["access-control-allow-origin"] == origin
    assert "POST" in result.headers["access-control-allow-methods"]
    assert "content-type" in result.headers["access-control-allow-headers"]


def test_cors_headers_are_not_given_to_another_origin(stack: Stack) -> None:
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}

    preflight = client.request("OPTIONS", f"{stack.url}/api/reckoning", headers=headers)
    actual = client.request("GET", f"{stack.url}/api/questionnaire", headers={"Origin": "https://evil.example"})

    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in actual.headers


def test_a_response_to_the_configured_origin_carries_cors_headers(stack: Stack) -> None:
    origin = stack.environment["CORS_ORIGIN"]

    result = client.request("GET", f"{stack.url}/api/questionnaire", headers={"Origin": origin})

    assert result.headers["access-control-allow-origin"] == origin
    assert "retry-after" in result.headers["access-control-expose-headers"]


def test_the_openapi_document_is_served(stack: Stack) -> None:
    result = client.request("GET", stack.url + "/api/openapi.json")
    assert result.status == 200
    assert result.json["openapi"] == "3.1.0"
    assert "/api/reckoning" in result.json["paths"]
