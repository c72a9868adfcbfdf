"""POST /api/checkout against a local Stripe API stub, through the real stripe SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from reckoning import config
from reckoning.providers import checkout as checkout_provider
from tests.helpers import count, invoke, submission
from tests.stubs.stripe import StripeStub

CHECKOUT = ("checkout", "POST", "/api/checkout", "POST /api/checkout")


@pytest.fixture
def stripe_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeStub]:
    stub = StripeStub()
    stub.server.start()
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_reckoning")
    monkeypatch.setenv("STRIPE_API_BASE", stub.url)
    config.reset()
    yield stub
    stub.server.stop()
    checkout_provider._stripe_client.cache_clear()


def submitted_token() -> str:
    status, _, body = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())
    assert status == 201
    token: str = body["data"]["token"]
    return token


def checkout(token: str) -> tuple[int, dict[str, str], Any]:
    return invoke(*CHECKOUT, body={"token": token})


def test_checkout_creates_a_session_and_records_it(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any]
) -> None:
    token = submitted_token()
    status, _, body = checkout(token)
    assert status == 200
    data = body["data"]
    assert data["checkoutUrl"].startswith("https://checkout.stripe.com/")
    assert (data["amount"], data["currency"]) == (2900, "eur")
    [create] = stripe_stub.creates()
    form = create.form()
    assert form["mode"] == ["payment"]
    assert form["customer_email"] == ["ada@example.com"]
    assert form["client_reference_id"] == form["metadata[reckoning_id]"]
    assert create.headers["idempotency-key"] == f"checkout:{form['client_reference_id'][0]}:1"
    row = pg.execute("SELECT checkout_session_id, amount, currency, status FROM payments").fetchone()
    assert row == {"checkout_session_id": data["sessionId"], "amount": 2900, "currency": "eur", "status": "open"}


def test_a_second_call_returns_the_open_session_without_a_new_stripe_call(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any]
) -> None:
    token = submitted_token()
    first = checkout(token)[2]["data"]
    second = checkout(token)[2]["data"]
    assert first == second
    assert len(stripe_stub.creates()) == 1
    assert count(pg, "payments") == 1


def test_an_expired_session_is_replaced_by_a_new_one(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any]
) -> None:
    token = submitted_token()
    first = checkout(token)[2]["data"]
    pg.execute("UPDATE payments SET status = 'expired'")
    second = checkout(token)[2]["data"]
    assert second["sessionId"] != first["sessionId"]
    keys = [r.headers["idempotency-key"] for r in stripe_stub.creates()]
    assert [k.rsplit(":", 1)[1] for k in keys] == ["1", "2"]
    assert count(pg, "payments") == 2


def test_checkout_of_a_paid_reckoning_is_a_conflict(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any]
) -> None:
    token = submitted_token()
    pg.execute("UPDATE reckonings SET status = 'paid'")
    status, _, body = checkout(token)
    assert (status, body["error"]["code"]) == (409, "CONFLICT")
    assert stripe_stub.creates() == []


@pytest.mark.parametrize("token", ["A" * 43, "short", "x" * 100])
def test_unknown_or_malformed_token_is_not_found(database_url: str, stripe_stub: StripeStub, token: str) -> None:
    status, _, body = checkout(token)
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    assert stripe_stub.creates() == []


def test_stripe_unreachable_is_503_and_records_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch, pg: psycopg.Connection[Any]
) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_reckoning")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # discard port: connection refused
    config.reset()
    token = submitted_token()
    status, headers, body = checkout(token)
    checkout_provider._stripe_client.cache_clear()
    assert (status, body["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert int(headers["Retry-After"]) > 0
    assert count(pg, "payments") == 0


def test_without_a_stripe_key_the_offline_checkout_page_is_used(database_url: str) -> None:
    token = submitted_token()
    status, _, body = checkout(token)
    assert status == 200
    assert body["data"]["sessionId"].startswith("cs_test_local_")
    assert "/_local/checkout/" in body["data"]["checkoutUrl"]


def test_missing_token_field_is_a_validation_error(database_url: str, pg: psycopg.Connection[Any]) -> None:
    status, _, body = invoke(*CHECKOUT, body={"tok": "x"})
    assert status == 400
    fields = {d["field"] for d in body["error"]["details"]}
    assert fields == {"token", "tok"}
    assert count(pg, "payments") == 0
