"""Property-based tests of the whole HTTP surface, driven by the OpenAPI document the local stack serves.

Schemathesis reads `GET /api/openapi.json` and generates requests for every operation in it, ones the
document allows and ones it forbids; a second property sends every operation that takes a body the bytes
a document cannot describe: not UTF-8, numbers beyond Python's range, NaN, nesting without end. Whatever
the request, the answer is never a 5xx, never logs an ERROR, and conforms to the document: a documented
status, content type, headers and body.

`FUZZ_EXAMPLES` sets the examples per operation and property (default 50: ~750 requests, the whole file ~20 s);
`make fuzz` runs 500.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode

from reckoning_local.stack import Stack
from tests.conftest import StartStack
from tests.helpers import count, submission

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

Operation = APIOperation[Any, Any, Any, Any]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
# A fuzzer is a flood from one address: the rate limits would answer most of it with 429 (documented,
# so conforming, but it would test nothing else). The stack takes these from the caller's environment.
RATE_LIMITS = (
    "RATE_LIMIT_SUBMIT",
    "RATE_LIMIT_CHECKOUT",
    "RATE_LIMIT_REPORT",
    "RATE_LIMIT_LINKS",
    "RATE_LIMIT_DEFAULT",
)
# The document describes shapes; answers are checked against the versioned questionnaire and emails
# against a pattern, so a body the schema allows may still be refused with a documented 400.
CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {"enabled": False}}})
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@pytest.fixture
def fuzzed_stack(start_stack: StartStack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    for name in RATE_LIMITS:
        monkeypatch.setenv(name, "1000000")
    return start_stack(pollers=False)


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.INFO)
    yield
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def operations(stack: Stack) -> list[Operation]:
    schema = schemathesis.openapi.from_url(f"{stack.url}/api/openapi.json", config=CONFIG)
    found: list[Operation] = [operation for methods in schema.values() for operation in methods.values()]
    assert len(found) >= 7  # the document lists every route of the template
    return found


def takes_input(operation: Operation) -> bool:
    """Whether the document constrains something a request can get wrong: a body or a header with a constraint
    (a path parameter here is any string, and so is If-None-Match: there is nothing negative to generate)."""
    constrained = [h for h in operation.headers if set(h.definition.get("schema", {})) - {"type"}]
    return bool(operation.body) or bool(constrained)


def report(name: str, statuses: Counter[str], started: float) -> None:
    total = sum(statuses.values())
    print(f"\n{name}: {total} requests in {time.monotonic() - started:.1f} s")
    for key, n in sorted(statuses.items()):
        print(f"  {n:6d}  {key}")


@pytest.mark.usefixtures("no_errors_logged")
def test_generated_requests_get_documented_answers_and_never_a_5xx(fuzzed_stack: Stack) -> None:
    statuses: Counter[str] = Counter()
    started = time.monotonic()
    session = requests.Session()
    for operation in operations(fuzzed_stack):
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if takes_input(operation) else [])
        for mode in modes:
            generated_requests(operation, mode, session, statuses)
    report("generated requests", statuses, started)


def generated_requests(
    operation: Operation, mode: GenerationMode, session: requests.Session, statuses: Counter[str]
) -> None:
    @HYPOTHESIS
    @given(case=operation.as_strategy(generation_mode=mode))
    def answered_as_documented(case: Case[Any]) -> None:
        # Every check Schemathesis has for a response: no 5xx, a documented status, content type,
        # headers and body; a request the document forbids is refused with a 4xx.
        response = case.call_and_validate(session=session)
        statuses[f"{operation.label} {mode.value} -> {response.status_code}"] += 1

    answered_as_documented()


# Bytes and numbers a JSON Schema cannot describe.
NOT_UTF8 = st.sampled_from([b"\xff", b"\xfe\xff", b"\x80", b"\xc3", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])
BAD_NUMBERS = st.one_of(
    st.integers(min_value=300, max_value=6000).map(lambda digits: "9" * digits),  # beyond float(), then int()
    st.integers(min_value=300, max_value=6000).map(lambda digits: "-1" + "0" * digits),
    st.sampled_from(["1e400", "-1e400", "1E+999999", "1e-400", "NaN", "Infinity", "-Infinity"]),
)
DEEP = st.integers(min_value=20, max_value=20_000).flatmap(
    lambda depth: st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth])
)
PLACEHOLDER = "\u2603placeholder\u2603"


@st.composite
def bad_bodies(draw: st.DrawFn, operation: Operation) -> bytes:
    """A body the document allows, with one value replaced by bytes it cannot describe; or noise."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(min_size=1, max_size=512))
    case = draw(operation.as_strategy())
    body: dict[str, Any] = dict(case.body) if isinstance(case.body, dict) else {}
    existing = bool(body) and draw(st.booleans())
    key = draw(st.sampled_from(sorted(body)) if existing else st.text(min_size=1, max_size=8))
    raw = draw(
        st.one_of(
            BAD_NUMBERS.map(str.encode),
            DEEP.map(str.encode),
            st.tuples(st.binary(max_size=8), NOT_UTF8).map(lambda parts: b'"' + parts[0] + parts[1] + b'"'),
        )
    )
    text = json.dumps({**body, key: PLACEHOLDER}).encode()
    return text.replace(json.dumps(PLACEHOLDER).encode(), raw)


@pytest.mark.usefixtures("no_errors_logged")
def test_bytes_the_document_cannot_describe_are_refused_as_documented(
    fuzzed_stack: Stack, pg: psycopg.Connection[Any]
) -> None:
    statuses: Counter[str] = Counter()
    started = time.monotonic()
    session = requests.Session()
    with_bodies = [operation for operation in operations(fuzzed_stack) if operation.body]
    assert {operation.path for operation in with_bodies} >= {"/api/reckoning", "/api/checkout", "/api/report/links"}
    for operation in with_bodies:
        bad_requests(fuzzed_stack.url, operation, session, statuses)
    report("bytes the document cannot describe", statuses, started)
    assert count(pg, "reckonings") == count(pg, "access_tokens") == count(pg, "stripe_events") == 0


def bad_requests(base_url: str, operation: Operation, session: requests.Session, statuses: Counter[str]) -> None:
    @HYPOTHESIS
    @given(body=bad_bodies(operation))
    def refused_as_documented(body: bytes) -> None:
        headers = {"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"}
        response = session.post(base_url + operation.path, data=body, headers=headers, timeout=30)
        statuses[f"{operation.label} -> {response.status_code}"] += 1
        assert 400 <= response.status_code < 500, response.text
        operation.Case(headers=headers).validate_response(response)

    refused_as_documented()


@pytest.mark.usefixtures("no_errors_logged")
def test_the_whole_paid_flow_answers_as_documented(start_stack: StartStack) -> None:
    # Generated requests rarely get past validation, so the answers of the paid flow are checked here,
    # each with every check Schemathesis has for a response to that operation.
    stack = start_stack(schedules=False)
    documented = {(operation.method.upper(), operation.path): operation for operation in operations(stack)}
    session = requests.Session()

    def call(method: str, route: str, token: str = "", **kwargs: Any) -> requests.Response:
        path = route.replace("{token}", token)
        response = session.request(method, stack.url + path, allow_redirects=False, timeout=30, **kwargs)
        case = documented[(method, route)].Case(path_parameters={"token": token} if token else None)
        case.validate_response(response)
        return response

    # An optional question left unanswered (null): the export still answers what its schema says.
    answers = {**submission()["answers"], "support": None}
    submitted = call("POST", "/api/reckoning", json=submission(answers=answers))
    assert submitted.status_code == 201
    token = submitted.json()["data"]["token"]
    assert call("GET", "/api/report/{token}", token).json()["data"]["status"] == "awaiting_payment"
    assert call("GET", "/api/report/{token}/pdf", token).status_code == 409
    checkout_url = call("POST", "/api/checkout", json={"token": token}).json()["data"]["checkoutUrl"]
    assert session.post(checkout_url, allow_redirects=False, timeout=30).status_code == 303  # the Pay button
    assert call("POST", "/api/checkout", json={"token": token}).status_code == 409
    ready = wait_until_ready(lambda: call("GET", "/api/report/{token}", token))
    unchanged = call("GET", "/api/report/{token}", token, headers={"If-None-Match": ready.headers["ETag"]})
    assert unchanged.status_code == 304
    assert call("GET", "/api/report/{token}/pdf", token).status_code == 302
    assert call("POST", "/api/report/links", json={"email": submission()["email"]}).status_code == 202
    assert call("GET", "/api/report/{token}/export", token).status_code == 200
    assert call("DELETE", "/api/report/{token}", token).status_code == 202
    assert call("GET", "/api/report/{token}", token).status_code == 404
    assert call("DELETE", "/api/report/{token}", token).status_code == 404
    assert call("GET", "/api/report/{token}", "x" * 43).status_code == 404


def wait_until_ready(poll: Callable[[], requests.Response], timeout_s: float = 60) -> requests.Response:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = poll()
        if response.json()["data"]["status"] == "ready":
            return response
        time.sleep(0.2)
    raise AssertionError(f"not ready after {timeout_s:.0f} s: {response.json()['data']['status']}")
