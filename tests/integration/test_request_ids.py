"""Every answer of every route carries its request id: the `X-Request-Id` header (API Gateway's requestId, or a
fresh one), `error.requestId` in an error body, and the correlation id of the log lines written meanwhile."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from reckoning.config import DEV_WEBHOOK_SECRET
from reckoning.observability import logger
from reckoning_local.events import LambdaContext, function_url_event, http_event
from tests.helpers import invoke, load_function, submission
from tests.stubs.stripe import session_event, sign


@dataclass(frozen=True)
class Route:
    function: str
    method: str
    path: str  # {token} is replaced

    @property
    def route_key(self) -> str:
        return "$default" if self.function == "webhook" else f"{self.method} {self.path}"

    def __str__(self) -> str:
        return self.route_key if self.function != "webhook" else "POST /webhooks/stripe"


ROUTES = [
    Route("submit", "GET", "/api/questionnaire"),
    Route("submit", "POST", "/api/reckoning"),
    Route("checkout", "POST", "/api/checkout"),
    Route("report", "GET", "/api/report/{token}"),
    Route("report", "GET", "/api/report/{token}/pdf"),
    Route("report", "GET", "/api/report/{token}/export"),
    Route("report", "DELETE", "/api/report/{token}"),
    Route("report", "POST", "/api/report/links"),
    Route("webhook", "POST", "/webhooks/stripe"),
]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    request_id: str  # the event's requestContext.requestId ("" when the event had none)


def call(
    route: Route,
    *,
    token: str = "x" * 43,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    request_id: bool = True,
) -> Answer:
    path = route.path.replace("{token}", token)
    if route.function == "webhook":
        event = function_url_event(route.method, path, headers=headers, body=body)
    else:
        params = {"token": token} if "{token}" in route.path else None
        event = http_event(
            route.method, path, route_key=route.route_key, path_parameters=params, headers=headers, body=body
        )
    if not request_id:
        del event["requestContext"]["requestId"]
    response = load_function(route.function).lambda_handler(event, LambdaContext(function_name=route.function))
    text = response.get("body") or ""
    parsed = json.loads(text) if response["headers"].get("Content-Type") == "application/json" and text else text
    return Answer(response["statusCode"], response["headers"], parsed, event["requestContext"].get("requestId", ""))


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the functions log, formatted as Powertools writes it to CloudWatch (one JSON object a line)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield out
    logger.removeHandler(handler)  # type: ignore[attr-defined]  # Powertools passes it to its logging.Logger


def correlation_ids(out: io.StringIO) -> set[str]:
    return {json.loads(line).get("correlation_id") for line in out.getvalue().splitlines() if line.startswith("{")}


def assert_identified(answer: Answer) -> str:
    rid = answer.headers["X-Request-Id"]
    assert uuid.UUID(rid)
    if answer.status >= 400:
        assert answer.body["error"]["requestId"] == rid
    return rid


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_refusal_carries_the_gateways_request_id_in_header_and_body(database_url: str, route: Route) -> None:
    answer = call(route, body="hello", headers={"content-type": "text/plain"})
    assert (answer.status, answer.body["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert assert_identified(answer) == answer.request_id


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_5xx_carries_the_id_in_header_body_and_log_line(
    database_url: str, route: Route, monkeypatch: pytest.MonkeyPatch, log_lines: io.StringIO
) -> None:
    module = load_function(route.function)

    def broken() -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(module, "dependencies", broken)  # what every route calls first
    bodies = {"submit": submission(), "checkout": {"token": "x" * 43}, "report": {"email": "ada@example.com"}}
    body = json.dumps(bodies.get(route.function, {}))
    headers = {"content-type": "application/json", "stripe-signature": "t=1,v1=00"}
    answer = call(route, body=None if route.method != "POST" else body, headers=headers)
    assert (answer.status, answer.body["error"]["code"]) == (500, "INTERNAL_ERROR")
    rid = assert_identified(answer)
    assert rid == answer.request_id
    assert correlation_ids(log_lines) == {rid}  # "request failed", with its traceback, under the same id


@pytest.mark.parametrize("route", [r for r in ROUTES if "{token}" in r.path], ids=str)
def test_a_404_of_an_unknown_token_carries_it(database_url: str, report_bucket: str, route: Route) -> None:
    answer = call(route)
    assert (answer.status, answer.body["error"]["code"]) == (404, "NOT_FOUND")
    assert assert_identified(answer) == answer.request_id


def test_an_event_without_a_request_id_gets_a_fresh_one_in_header_body_and_log(
    database_url: str, log_lines: io.StringIO
) -> None:
    answers = [call(ROUTES[3], request_id=False) for _ in range(2)]
    ids = [assert_identified(answer) for answer in answers]
    assert len(set(ids)) == 2
    assert correlation_ids(log_lines) == set(ids)


def test_successes_carry_it_too(database_url: str, report_bucket: str, report_queue: str) -> None:
    questionnaire = call(ROUTES[0])
    assert questionnaire.status == 200
    assert assert_identified(questionnaire) == questionnaire.request_id
    status, headers, body = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())
    assert status == 201 and uuid.UUID(headers["X-Request-Id"])
    token = body["data"]["token"]
    for route, expected in ((ROUTES[3], 200), (ROUTES[5], 200), (ROUTES[6], 202)):
        answer = call(route, token=token)
        assert answer.status == expected
        assert assert_identified(answer) == answer.request_id
    links = call(ROUTES[7], body=json.dumps({"email": "ada@example.com"}), headers={"content-type": "application/json"})
    assert links.status == 202 and assert_identified(links) == links.request_id
    payload = json.dumps(session_event("checkout.session.completed", "cs_test_unknown", str(uuid.uuid4())))
    headers = {"content-type": "application/json", "stripe-signature": sign(payload, DEV_WEBHOOK_SECRET)}
    received = call(ROUTES[8], body=payload, headers=headers)
    assert received.status == 200 and assert_identified(received) == received.request_id
