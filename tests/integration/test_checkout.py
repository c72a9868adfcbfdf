"""POST /api/checkout against a local Stripe API stub, through the real stripe SDK.

The stub keeps Stripe's documented rules (tests/stubs/stripe.py); each test below switches on one way Stripe
can answer, and checks the HTTP answer, what is stored, and that no log line carries the person's address.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from reckoning import errors
from reckoning.domain import checkout as checkout_domain
from reckoning.observability import logger
from reckoning.ports import CheckoutSession, Closed
from reckoning.providers import checkout as checkout_provider
from tests.helpers import Env, count, invoke, submission, with_fakes
from tests.stubs.stripe import StripeStub

CHECKOUT = ("checkout", "POST", "/api/checkout", "POST /api/checkout")
ADDRESS = "zelda.private@example.com"
REFUSED_BY_STRIPE = "zelda..private@example.com"  # our own check accepts it; Stripe does not
# The local parts, so that a form-encoded copy (zelda.private%40example.com) is caught too.
PRIVATE = ("zelda.private", "zelda..private")


@pytest.fixture
def stripe_stub(env: Env) -> Iterator[StripeStub]:
    stub = StripeStub()
    stub.server.start()
    env(STRIPE_SECRET_KEY="sk_test_reckoning", STRIPE_API_BASE=stub.url, STRIPE_TIMEOUT_S="0.3")  # fast timeouts
    yield stub
    stub.server.stop()


class Logs:
    """Every log line from `start()` on: stdlib records with all their fields, Powertools' JSON lines as its
    handler writes them, and whatever reached the process's stdout/stderr (an SDK printing to the console)."""

    def __init__(self, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
        self._caplog, self._capfd = caplog, capfd
        self._json = io.StringIO()

    def start(self) -> None:
        self._caplog.set_level(logging.DEBUG)
        self._caplog.clear()
        self._capfd.readouterr()
        self._json.seek(0)
        self._json.truncate()

    def text(self) -> str:
        out, err = self._capfd.readouterr()
        records = (str(vars(record)) for record in self._caplog.records)
        return "\n".join([*records, self._json.getvalue(), out, err])


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[Logs]:
    captured = Logs(caplog, capfd)
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(captured._json)
    yield captured
    handler.setStream(previous)


def submitted_token(email: str = ADDRESS) -> str:
    status, _, body = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission(email=email))
    assert status == 201
    token: str = body["data"]["token"]
    return token


def checkout(token: str) -> tuple[int, dict[str, str], Any]:
    return invoke(*CHECKOUT, body={"token": token})


def keys(stub: StripeStub) -> list[str]:
    return [request.headers["idempotency-key"] for request in stub.creates()]


def refused_privately(logs: Logs, status: int, code: str) -> tuple[dict[str, str], Any]:
    """Given a switched-on Stripe answer: the checkout gets `status`/`code`, and nothing logged names the person."""
    token = submitted_token()
    logs.start()
    got, headers, body = checkout(token)
    text = logs.text()
    assert (got, body["error"]["code"]) == (status, code)
    assert "request refused" in text or "request failed" in text  # the capture does see our log lines
    assert '"level":' in text  # ... including Powertools' JSON lines on stdout
    assert not [part for part in PRIVATE if part in text]
    return headers, body


# ---------------------------------------------------------------- the happy path


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
    assert form["customer_email"] == [ADDRESS]
    assert form["client_reference_id"] == form["metadata[reckoning_id]"]
    assert create.headers["idempotency-key"] == f"checkout:{form['client_reference_id'][0]}:1:0"
    row = pg.execute("SELECT checkout_session_id, amount, currency, status, expires_at FROM payments").fetchone()
    created = pg.execute("SELECT created_at FROM reckonings").fetchone()
    assert row is not None and created is not None
    assert row.pop("expires_at") == created["created_at"].replace(microsecond=0) + timedelta(minutes=90)
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
    assert [key.split(":")[2] for key in keys(stripe_stub)] == ["1", "2"]
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


# ---------------------------------------------------------------- retries send Stripe the same request


def test_a_retry_after_a_lost_answer_gets_the_session_stripe_created(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any]
) -> None:
    # Given Stripe creates the session but its answer comes after our client gave up (twice: the SDK retries)
    token = submitted_token()
    stripe_stub.delay_s = 1.0
    started = time.perf_counter()
    status, headers, body = checkout(token)
    print(f"Stripe timeout (0.3 s client timeout, 1 retry) became a 503 in {time.perf_counter() - started:.2f} s")
    assert (status, body["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert int(headers["Retry-After"]) == checkout_provider.RETRY_AFTER_S
    assert count(pg, "payments") == 0
    # When the person tries again and Stripe is quick again
    stripe_stub.delay_s = 0
    status, _, body = checkout(token)
    # Then the same request (key and parameters) gets back the one session Stripe made
    assert status == 200
    [session] = stripe_stub.sessions()
    assert body["data"]["sessionId"] == session["id"]
    requests = stripe_stub.creates()
    assert len(requests) == 3
    assert len({(r.headers["idempotency-key"], r.body) for r in requests}) == 1
    assert count(pg, "payments") == 1


class _CrashAfterStripe:
    """The real provider, then a crash before the insert (a Lambda timeout, the database gone)."""

    def __init__(self) -> None:
        self.inner = with_fakes().checkout

    def create_session(self, **arguments: Any) -> CheckoutSession:
        self.inner.create_session(**arguments)
        raise errors.ServiceUnavailable("crashed after Stripe answered")

    def expire_session(self, session_id: str, deadline: float | None = None) -> Closed:
        return self.inner.expire_session(session_id, deadline)


def test_a_retry_after_a_crash_between_stripe_and_the_insert_gets_the_same_session(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any]
) -> None:
    token = submitted_token()
    with pytest.raises(errors.ServiceUnavailable):
        checkout_domain.start_checkout(with_fakes(checkout=_CrashAfterStripe()), token)
    time.sleep(1.1)  # a retry in another second: a clock-derived expires_at would differ now

    status, _, body = checkout(token)

    assert status == 200
    [session] = stripe_stub.sessions()
    assert body["data"]["sessionId"] == session["id"]
    first, second = stripe_stub.creates()
    assert (first.headers["idempotency-key"], first.body) == (second.headers["idempotency-key"], second.body)
    assert count(pg, "payments") == 1


@pytest.mark.parametrize("later", [timedelta(minutes=45), timedelta(hours=25), timedelta(days=30)])
def test_a_retry_much_later_uses_a_new_key_with_an_expiry_stripe_accepts(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any], later: timedelta
) -> None:
    # Given a first attempt whose answer was lost
    token = submitted_token()
    stripe_stub.delay_s = 1.0
    assert checkout(token)[0] == 503
    stripe_stub.delay_s = 0
    # When the person comes back much later (the reckoning is that much older)
    pg.execute("UPDATE reckonings SET created_at = created_at - %s", (later,))
    status, _, body = checkout(token)
    # Then a new slot's key carries a new expiry, 60 to 90 minutes ahead: Stripe accepts it (the stub checks)
    assert status == 200
    first_key, *_, last_key = keys(stripe_stub)
    assert last_key != first_key
    expires_at = int(stripe_stub.creates()[-1].form()["expires_at"][0])
    assert 60 * 60 - 5 <= expires_at - time.time() <= 90 * 60
    assert body["data"]["sessionId"] == stripe_stub.sessions()[-1]["id"]
    assert count(pg, "payments") == 1


# ---------------------------------------------------------------- every other Stripe answer


def test_an_address_stripe_refuses_is_a_validation_error_on_email(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any], logs: Logs
) -> None:
    token = submitted_token(REFUSED_BY_STRIPE)
    logs.start()

    status, headers, body = checkout(token)

    text = logs.text()
    assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert body["error"]["details"] == [{"field": "email", "message": checkout_provider.EMAIL_REFUSED}]
    assert "Retry-After" not in headers
    assert len(stripe_stub.creates()) == 1  # Stripe said so, not our own check
    assert "request refused" in text and '"level":' in text
    assert not [part for part in PRIVATE if part in text]
    assert count(pg, "payments") == 0


def test_a_key_reused_with_other_parameters_is_a_503_until_the_next_slot(
    database_url: str,
    stripe_stub: StripeStub,
    pg: psycopg.Connection[Any],
    logs: Logs,
    env: Env,
) -> None:
    # Given a lost answer, then a deploy that changes the price within the same slot
    token = submitted_token()
    stripe_stub.delay_s = 1.0
    assert checkout(token)[0] == 503
    stripe_stub.delay_s = 0
    env(PRICE_AMOUNT="3900")
    logs.start()
    # When the person retries, Stripe refuses the key with other parameters
    status, headers, body = checkout(token)
    # Then: 503 until the next slot's key, an error log for us without the address, nothing stored
    text = logs.text()
    assert (status, body["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert 1 <= int(headers["Retry-After"]) <= 30 * 60
    assert "checkout key spent at Stripe" in text and "IdempotencyError" in text
    assert not [part for part in PRIVATE if part in text]
    assert count(pg, "payments") == 0
    # And in the next slot the new price goes through under a new key
    pg.execute("UPDATE reckonings SET created_at = created_at - interval '30 minutes'")
    status, _, body = checkout(token)
    assert status == 200
    assert body["data"]["amount"] == stripe_stub.amount
    assert int(stripe_stub.creates()[-1].form()["line_items[0][price_data][unit_amount]"][0]) == 3900
    assert count(pg, "payments") == 1


def test_a_stripe_500_is_replayed_for_its_key_so_the_503_lasts_until_the_next_slot(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any], logs: Logs
) -> None:
    stripe_stub.fail_next(500)
    headers, _ = refused_privately(logs, 503, "SERVICE_UNAVAILABLE")
    assert int(headers["Retry-After"]) > checkout_provider.RETRY_AFTER_S
    token = submitted_token()
    stripe_stub.fail_next(500)
    assert checkout(token)[0] == 503
    assert checkout(token)[0] == 503  # the same key: Stripe answers its saved 500 again
    pg.execute("UPDATE reckonings SET created_at = created_at - interval '30 minutes'")
    assert checkout(token)[0] == 200
    assert count(pg, "payments") == 1


@pytest.mark.parametrize(("status", "tries"), [(429, 1), (502, 2), (503, 2), (504, 2)])  # the SDK retries a 5xx once
def test_rate_limits_and_outages_at_stripes_door_are_a_503_and_a_retry_succeeds(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any], logs: Logs, status: int, tries: int
) -> None:
    stripe_stub.fail_next(status, times=tries)
    headers, _ = refused_privately(logs, 503, "SERVICE_UNAVAILABLE")
    assert int(headers["Retry-After"]) == checkout_provider.RETRY_AFTER_S
    assert count(pg, "payments") == 0
    assert len(stripe_stub.creates()) == tries
    token = submitted_token()
    assert checkout(token)[0] == 200


def test_stripe_timing_out_is_a_503_and_logs_nothing_personal(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any], logs: Logs
) -> None:
    stripe_stub.delay_s = 1.0
    headers, _ = refused_privately(logs, 503, "SERVICE_UNAVAILABLE")
    assert int(headers["Retry-After"]) == checkout_provider.RETRY_AFTER_S
    assert count(pg, "payments") == 0


def test_stripe_unreachable_is_503_and_records_nothing(
    database_url: str, env: Env, pg: psycopg.Connection[Any], logs: Logs
) -> None:
    env(STRIPE_SECRET_KEY="sk_test_reckoning", STRIPE_API_BASE="http://127.0.0.1:9")  # discard port: refused
    headers, _ = refused_privately(logs, 503, "SERVICE_UNAVAILABLE")
    assert int(headers["Retry-After"]) > 0
    assert count(pg, "payments") == 0


def test_a_wrong_secret_key_is_an_internal_error(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any], logs: Logs, env: Env
) -> None:
    env(STRIPE_SECRET_KEY="sk_test_rotated_away")
    _, body = refused_privately(logs, 500, "INTERNAL_ERROR")
    assert body["error"]["message"] == "Internal error."
    assert count(pg, "payments") == 0


def test_stripe_sends_the_person_back_with_its_session_id_and_never_the_token(
    database_url: str, stripe_stub: StripeStub
) -> None:
    token = submitted_token()
    status, _, _ = checkout(token)
    assert status == 200
    [session] = stripe_stub.sessions()

    assert session["success_url"].endswith("/checkout/success?session_id={CHECKOUT_SESSION_ID}")  # the literal
    assert session["cancel_url"].endswith("/checkout/cancel")
    back = stripe_stub.pay(session["id"], "pi_back")
    assert back.endswith(f"/checkout/success?session_id={session['id']}")
    assert token not in back and token not in session["cancel_url"]


# ---------------------------------------------------------------- one deadline for every Stripe call of a request


def test_expire_then_create_share_one_deadline_and_a_late_chain_is_a_quick_503(
    database_url: str, stripe_stub: StripeStub, env: Env, pg: psycopg.Connection[Any]
) -> None:
    # Given an open session too close to its expiry to hand out again: a new checkout expires it, then creates
    token = submitted_token()
    first = checkout(token)[2]["data"]["sessionId"]
    pg.execute("UPDATE payments SET expires_at = now() + interval '1 minute'")
    # And Stripe answering each call in 0.7 s, under a 1 s client timeout and a 1 s budget for the whole request
    env(STRIPE_TIMEOUT_S="1.0", STRIPE_MAX_RETRIES="1", STRIPE_BUDGET_S="1.0")
    stripe_stub.delay_s = 0.7
    started = time.perf_counter()
    status, headers, body = checkout(token)
    elapsed = time.perf_counter() - started
    # Then the request ends within its budget (the create is not started with 0.3 s left): 503 + Retry-After
    assert (status, body["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert int(headers["Retry-After"]) == checkout_provider.RETRY_AFTER_S
    assert elapsed < 1.0 + 0.25, f"{elapsed:.2f} s"
    assert stripe_stub.session(first)["status"] == "expired"  # what did fit is done, and recorded
    assert pg.execute("SELECT status FROM payments").fetchone() == {"status": "expired"}
    # And the browser's retry, with Stripe quick again, gets a new session
    stripe_stub.delay_s = 0
    status, _, body = checkout(token)
    assert status == 200 and body["data"]["sessionId"] != first


def test_a_slow_stripe_gets_no_retry_that_cannot_fit_the_budget(
    database_url: str, stripe_stub: StripeStub, env: Env, pg: psycopg.Connection[Any]
) -> None:
    token = submitted_token()
    env(STRIPE_TIMEOUT_S="0.6", STRIPE_MAX_RETRIES="1", STRIPE_BUDGET_S="1.0")
    stripe_stub.delay_s = 0.9  # every try times out
    started = time.perf_counter()
    status, _, _ = checkout(token)
    elapsed = time.perf_counter() - started
    assert status == 503
    assert elapsed < 1.0 + 0.25, f"{elapsed:.2f} s"  # without the budget: 0.6 + 0.5 backoff + 0.6 = 1.7 s
    assert len(stripe_stub.creates()) == 1
