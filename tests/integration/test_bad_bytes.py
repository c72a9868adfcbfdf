"""Bad bytes are bad input: bodies that are not UTF-8, numbers Python cannot hold as JSON says them,
JSON that is not JSON and nesting without end all get 400 VALIDATION_ERROR with the field, store
nothing and log no error. The webhook, which verifies a signature over the raw bytes, calls them
what they are for it: 400 INVALID_SIGNATURE."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import psycopg
import pytest

from tests.helpers import Env, count, invoke, submission

ROUTES = {
    "submit": ("submit", "/api/reckoning"),
    "checkout": ("checkout", "/api/checkout"),
    "links": ("report", "/api/report/links"),
}
HUGE = 10**400
DATA_TABLES = ("reckonings", "access_tokens", "payments", "stripe_events", "emails", "outbox", "reckoning_events")


def answers_with(**answers: Any) -> dict[str, Any]:
    return submission(answers=dict(submission()["answers"], **answers))


def with_raw_answer(name: str, raw: str) -> str:
    """A valid submission as JSON text with one answer replaced by `raw` JSON text."""
    text = json.dumps(answers_with(**{name: 0}))
    return text.replace(f'"{name}": 0', f'"{name}": {raw}', 1)


def post(route: str, body: str | bytes | dict[str, Any]) -> tuple[int, Any]:
    function, path = ROUTES[route]
    status, _, response = invoke(function, "POST", path, f"POST {path}", body=body)
    return status, response


def stored(pg: psycopg.Connection[Any]) -> dict[str, int]:
    return {table: n for table in DATA_TABLES if (n := count(pg, table))}


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


NOT_UTF8 = {
    "latin-1 text": json.dumps(submission(name="Zoë"), ensure_ascii=False).encode("latin-1"),
    "utf-16 with a BOM": json.dumps(submission()).encode("utf-16"),
    "a lone continuation byte": b'{"email": "\x80@example.com"}',
    "an invalid start byte": b'{"token": "\xff"}',
    "an encoded surrogate": b'{"email": "\xed\xa0\x80@example.com"}',
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("body", NOT_UTF8.values(), ids=NOT_UTF8.keys())
def test_a_body_that_is_not_utf8_is_a_400_on_the_body(
    route: str, body: bytes, pg: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    status, response = post(route, body)

    assert (status, response["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert response["error"]["details"] == [{"field": "body", "message": "The body is not valid UTF-8."}]
    assert stored(pg) == {}
    assert errors_logged(caplog) == []


SUBMIT_NUMBERS = {
    "a 400-digit scale answer": (answers_with(life_overall=HUGE), "answers.life_overall", "Must be between 1 and 10."),
    "a negative 400-digit number": (
        answers_with(hours_for_yourself=-HUGE),
        "answers.hours_for_yourself",
        "Must be between 0 and 168.",
    ),
    "a 400-digit text answer": (answers_with(proud_of=HUGE), "answers.proud_of", "Must be text."),
    "a 400-digit choice": (answers_with(money_situation=HUGE), "answers.money_situation", None),
    "a 400-digit unknown answer": (answers_with(bogus=HUGE), "answers.bogus", "Unknown question."),
    "1e400 (beyond a float)": (
        with_raw_answer("hours_for_yourself", "1e400"),
        "answers.hours_for_yourself",
        "Must be between 0 and 168.",
    ),
    "-1e400 as a scale": (with_raw_answer("life_overall", "-1e400"), "answers.life_overall", None),
    "a 5000-digit integer (beyond int())": (
        with_raw_answer("hours_for_yourself", "9" * 5000),
        "answers.hours_for_yourself",
        "Must be between 0 and 168.",
    ),
    "a 400-digit email": (submission(email=HUGE), "email", None),
    "a 400-digit consent": (submission(consent=HUGE), "consent", None),
}


@pytest.mark.parametrize(("body", "field", "message"), SUBMIT_NUMBERS.values(), ids=SUBMIT_NUMBERS.keys())
def test_numbers_json_allows_but_python_overflows_are_a_400_on_their_field(
    body: str | dict[str, Any],
    field: str,
    message: str | None,
    pg: psycopg.Connection[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    status, response = post("submit", body)

    assert (status, response["error"]["code"]) == (400, "VALIDATION_ERROR")
    details = {detail["field"]: detail["message"] for detail in response["error"]["details"]}
    assert field in details
    if message is not None:
        assert details[field] == message
    assert stored(pg) == {}
    assert errors_logged(caplog) == []


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("checkout", {"token": HUGE}, "token"),
        ("checkout", '{"token": 1e400}', "token"),
        ("checkout", '{"token": ' + "7" * 5000 + "}", "token"),
        ("links", {"email": HUGE}, "email"),
        ("links", '{"email": -1e400}', "email"),
    ],
)
def test_huge_numbers_on_the_other_routes_are_a_400_on_their_field(
    route: str, body: str | dict[str, Any], field: str, pg: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    status, response = post(route, body)

    assert (status, response["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert field in [detail["field"] for detail in response["error"]["details"]]
    assert stored(pg) == {}
    assert errors_logged(caplog) == []


NOT_JSON = {
    "NaN": (
        with_raw_answer("hours_for_yourself", "NaN"),
        "The body is not valid JSON: NaN and Infinity are not JSON numbers.",
    ),
    "Infinity": (
        with_raw_answer("life_overall", "Infinity"),
        "The body is not valid JSON: NaN and Infinity are not JSON numbers.",
    ),
    "-Infinity": (
        with_raw_answer("bogus", "-Infinity"),
        "The body is not valid JSON: NaN and Infinity are not JSON numbers.",
    ),
    "cut short": ('{"email": ', "The body is not valid JSON."),
    "33 levels of nesting": (
        with_raw_answer("focus_areas", "[" * 32 + "]" * 32),
        "The body is nested more than 32 levels deep.",
    ),
    "30,000 levels of nesting": (
        '{"email": ' + "[" * 30_000 + "]" * 30_000 + "}",
        "The body is nested more than 32 levels deep.",
    ),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("body", "message"), NOT_JSON.values(), ids=NOT_JSON.keys())
def test_json_that_is_not_json_or_nests_without_end_is_a_400_on_the_body(
    route: str, body: str, message: str, pg: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    status, response = post(route, body)

    assert (status, response["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert response["error"]["details"] == [{"field": "body", "message": message}]
    assert stored(pg) == {}
    assert errors_logged(caplog) == []


def test_nesting_up_to_the_bound_reaches_the_field_checks(pg: psycopg.Connection[Any]) -> None:
    # body → answers → 30 lists → "work": 32 levels, the most a body may nest.
    status, response = post("submit", with_raw_answer("focus_areas", "[" * 29 + '["work"]' + "]" * 29))

    assert status == 400
    assert response["error"]["details"] == [{"field": "answers.focus_areas", "message": "Must be a list of options."}]
    assert stored(pg) == {}


def test_a_webhook_body_that_is_not_utf8_is_an_invalid_signature(
    database_url: str, pg: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture, env: Env
) -> None:
    secret = "whsec_test_reckoning"
    env(STRIPE_WEBHOOK_SECRET=secret)
    payload = b'{"id": "evt_1", "type": "checkout.session.completed", "note": "\xff"}'
    # Signed over the exact bytes, as a sender that ignores encodings would; Stripe signs UTF-8 text only.
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    signature = f"t={timestamp},v1={digest}"

    status, _, response = invoke(
        "webhook", "POST", "/webhooks/stripe", "$default", body=payload, headers={"stripe-signature": signature}
    )

    assert (status, response["error"]["code"]) == (400, "INVALID_SIGNATURE")
    assert stored(pg) == {}
    assert errors_logged(caplog) == []
