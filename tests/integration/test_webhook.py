"""The Stripe webhook: signature checks, exactly-once effects, any order, the outbox hand-off."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from reckoning import db, errors
from reckoning.config import DEV_WEBHOOK_SECRET
from reckoning.domain import checkout as checkout_domain
from reckoning.domain import webhook
from reckoning.domain.services.tokens import hash_token
from reckoning.providers import aws
from reckoning.providers.checkout import OfflineCheckout
from tests.helpers import Env, count, invoke, load_function, submission, with_fakes
from tests.stubs.stripe import refund_event, session_event, sign

SECRET = "whsec_test_reckoning"


@pytest.fixture(autouse=True)
def webhook_secret(env: Env) -> None:
    env(STRIPE_WEBHOOK_SECRET=SECRET)


def deliver(
    event: dict[str, Any] | str, *, secret: str = SECRET, timestamp: int | None = None, signature: str | None = None
) -> tuple[int, Any]:
    payload = event if isinstance(event, str) else json.dumps(event)
    headers = {"stripe-signature": signature if signature is not None else sign(payload, secret, timestamp)}
    status, _, body = invoke("webhook", "POST", "/webhooks/stripe", "$default", body=payload, headers=headers)
    return status, body


def paid_reckoning_setup() -> tuple[str, str, str]:
    """A submitted reckoning with an open (offline) checkout session: (token, reckoning id, session id)."""
    status, _, body = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())
    assert status == 201
    token = body["data"]["token"]
    result = checkout_domain.start_checkout(with_fakes(checkout=OfflineCheckout()), token)
    with db.database().transaction() as conn:
        row = conn.execute(
            "SELECT r.id FROM reckonings r JOIN access_tokens t ON t.reckoning_id = r.id WHERE t.token_hash = %s",
            (hash_token(token),),
        ).fetchone()
    assert row is not None
    return token, str(row["id"]), result.session_id


def state(pg: psycopg.Connection[Any]) -> tuple[str, str]:
    row = pg.execute("SELECT r.status AS r, p.status AS p FROM reckonings r JOIN payments p ON p.reckoning_id = r.id")
    found = row.fetchone()
    assert found is not None
    return found["r"], found["p"]


def queued(queue_url: str) -> list[dict[str, Any]]:
    messages = aws.sqs().receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


# --- signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "accepted"),
    [
        ("valid", True),
        ("tampered body", False),
        ("wrong secret", False),
        ("missing header", False),
        ("301 s old", False),
        ("301 s in the future", False),
        ("299 s old", True),
    ],
)
def test_signature_matrix(
    case: str, accepted: bool, database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    _, reckoning_id, session_id = paid_reckoning_setup()
    payload = json.dumps(session_event("checkout.session.completed", session_id, reckoning_id))
    now = int(time.time())
    signature = {
        "valid": sign(payload, SECRET),
        "tampered body": sign(payload, SECRET),
        "wrong secret": sign(payload, "whsec_wrong"),
        "missing header": "",
        "301 s old": sign(payload, SECRET, now - 301),
        "301 s in the future": sign(payload, SECRET, now + 301),
        "299 s old": sign(payload, SECRET, now - 299),
    }[case]
    body = payload.replace('"paid"', '"unpaid"') if case == "tampered body" else payload
    status, response = deliver(body, signature=signature)
    if accepted:
        assert (status, response["data"]) == (200, {"received": True})
        assert count(pg, "stripe_events") == 1
    else:
        assert (status, response["error"]["code"]) == (400, "INVALID_SIGNATURE")
        assert count(pg, "stripe_events") == 0
        assert count(pg, "outbox") == 0
        assert state(pg) == ("awaiting_payment", "open")


def test_the_offline_default_secret_is_not_accepted_when_another_is_configured(
    database_url: str, report_queue: str
) -> None:
    _, reckoning_id, session_id = paid_reckoning_setup()
    status, _ = deliver(
        session_event("checkout.session.completed", session_id, reckoning_id), secret=DEV_WEBHOOK_SECRET
    )
    assert status == 400


# --- exactly once -----------------------------------------------------------------------------


def test_twenty_concurrent_deliveries_have_one_effect(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any], env: Env
) -> None:
    env(DB_POOL_SIZE="10")
    db.reset_database()
    load_function("webhook")
    _, reckoning_id, session_id = paid_reckoning_setup()
    event = session_event("checkout.session.completed", session_id, reckoning_id)
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: deliver(event)[0], range(20)))
    assert statuses == [200] * 20
    assert state(pg) == ("paid", "paid")
    assert count(pg, "stripe_events") == 1
    assert count(pg, "outbox") == 1
    assert queued(report_queue) == [{"kind": "generate", "reckoningId": reckoning_id, "reason": "payment"}]
    assert queued(report_queue) == []


# --- any order --------------------------------------------------------------------------------


def test_async_success_before_completed(database_url: str, report_queue: str, pg: psycopg.Connection[Any]) -> None:
    _, rid, sid = paid_reckoning_setup()
    assert deliver(session_event("checkout.session.async_payment_succeeded", sid, rid))[0] == 200
    assert deliver(session_event("checkout.session.completed", sid, rid, payment_status="unpaid"))[0] == 200
    assert state(pg) == ("paid", "paid")
    assert count(pg, "outbox") == 1


def test_completed_unpaid_then_async_success(database_url: str, report_queue: str, pg: psycopg.Connection[Any]) -> None:
    _, rid, sid = paid_reckoning_setup()
    deliver(session_event("checkout.session.completed", sid, rid, payment_status="unpaid"))
    assert state(pg) == ("awaiting_payment", "processing")
    deliver(session_event("checkout.session.async_payment_succeeded", sid, rid))
    assert state(pg) == ("paid", "paid")


def test_expired_after_paid_changes_nothing(database_url: str, report_queue: str, pg: psycopg.Connection[Any]) -> None:
    _, rid, sid = paid_reckoning_setup()
    deliver(session_event("checkout.session.completed", sid, rid))
    deliver(session_event("checkout.session.expired", sid, rid, payment_status="unpaid"))
    assert state(pg) == ("paid", "paid")


def test_async_failure_leaves_the_reckoning_payable(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    _, rid, sid = paid_reckoning_setup()
    deliver(session_event("checkout.session.completed", sid, rid, payment_status="unpaid"))
    deliver(session_event("checkout.session.async_payment_failed", sid, rid, payment_status="unpaid"))
    assert state(pg) == ("awaiting_payment", "failed")
    assert count(pg, "outbox") == 0


def test_refund_withholds_the_report_whatever_the_order(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    token, rid, sid = paid_reckoning_setup()
    refund = refund_event("pi_test_1")
    assert deliver(refund)[0] == 200  # before the payment is known: kept as unmatched
    deliver(session_event("checkout.session.completed", sid, rid, payment_intent="pi_test_1"))
    assert state(pg) == ("refunded", "refunded")
    status, _, body = invoke(
        "report", "GET", f"/api/report/{token}", "GET /api/report/{token}", path_parameters={"token": token}
    )
    assert (status, body["data"]["status"], body["data"].get("report")) == (200, "refunded", None)


def test_partial_refund_is_recorded_and_ignored(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    _, rid, sid = paid_reckoning_setup()
    deliver(session_event("checkout.session.completed", sid, rid))
    deliver(refund_event("pi_test_1", refunded=False))
    assert state(pg) == ("paid", "paid")
    outcomes = {r["type"]: r["outcome"] for r in pg.execute("SELECT type, outcome FROM stripe_events")}
    assert outcomes["charge.refunded"] == "ignored"


def test_other_event_types_are_recorded_and_ignored(database_url: str, pg: psycopg.Connection[Any]) -> None:
    event = session_event("checkout.session.completed", "cs_x", "x")
    event["type"] = "customer.created"
    assert deliver(event)[0] == 200
    assert pg.execute("SELECT outcome FROM stripe_events").fetchone() == {"outcome": "ignored"}


# --- integrity checks -------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "currency"), [(100, "eur"), (2900, "usd")])
def test_amount_or_currency_mismatch_is_flagged_not_paid(
    amount: int, currency: str, database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    _, rid, sid = paid_reckoning_setup()
    assert deliver(session_event("checkout.session.completed", sid, rid, amount=amount, currency=currency))[0] == 200
    assert state(pg) == ("awaiting_payment", "open")
    assert pg.execute("SELECT outcome FROM stripe_events").fetchone() == {"outcome": "flagged"}
    assert pg.execute("SELECT flag_reason IS NOT NULL AS flagged FROM payments").fetchone() == {"flagged": True}
    assert count(pg, "outbox") == 0


def test_a_reckoning_id_that_disagrees_with_the_session_is_flagged(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    _, _, sid = paid_reckoning_setup()
    other = "00000000-0000-4000-8000-000000000000"
    deliver(session_event("checkout.session.completed", sid, other))
    assert state(pg) == ("awaiting_payment", "open")
    assert pg.execute("SELECT outcome FROM stripe_events").fetchone() == {"outcome": "flagged"}


def test_an_unknown_session_is_recorded_as_unmatched(database_url: str, pg: psycopg.Connection[Any]) -> None:
    deliver(session_event("checkout.session.completed", "cs_unknown", "00000000-0000-4000-8000-000000000000"))
    assert pg.execute("SELECT outcome FROM stripe_events").fetchone() == {"outcome": "unmatched"}


# --- failures around the commit ---------------------------------------------------------------


def test_sqs_down_still_answers_200_and_the_sweeper_delivers_later(
    database_url: str, moto_server: str, report_queue: str, pg: psycopg.Connection[Any], env: Env
) -> None:
    _, rid, sid = paid_reckoning_setup()
    env(AWS_ENDPOINT_URL="http://127.0.0.1:9")  # SQS unreachable
    assert deliver(session_event("checkout.session.completed", sid, rid))[0] == 200
    assert state(pg) == ("paid", "paid")
    assert pg.execute("SELECT sent_at IS NULL AS pending, attempts FROM outbox").fetchone() == {
        "pending": True,
        "attempts": 1,
    }
    env(AWS_ENDPOINT_URL=moto_server)  # SQS is back
    from reckoning_local.events import LambdaContext

    result = load_function("sweeper").lambda_handler({"source": "aws.scheduler"}, LambdaContext())
    assert result == {"sent": 1, "failed": 0}
    assert queued(report_queue) == [{"kind": "generate", "reckoningId": rid, "reason": "payment"}]
    assert pg.execute("SELECT sent_at IS NOT NULL AS sent FROM outbox").fetchone() == {"sent": True}


def test_database_down_is_500_and_writes_nothing(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any], env: Env
) -> None:
    _, rid, sid = paid_reckoning_setup()
    env(DATABASE_URL="postgresql://nobody@127.0.0.1:9/none?connect_timeout=1")
    db.reset_database()
    status, body = deliver(session_event("checkout.session.completed", sid, rid))
    assert (status, body["error"]["code"]) == (500, "INTERNAL_ERROR")
    assert count(pg, "stripe_events") == 0
    assert state(pg) == ("awaiting_payment", "open")


def test_a_failure_inside_the_transaction_rolls_everything_back(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    _, rid, sid = paid_reckoning_setup()
    # The outbox insert fails inside the transaction: the ledger row and the status change must go too.
    pg.execute("ALTER TABLE outbox ADD CONSTRAINT no_rows CHECK (false) NOT VALID")
    status, _ = deliver(session_event("checkout.session.completed", sid, rid))
    assert status == 500
    assert count(pg, "stripe_events") == 0
    assert state(pg) == ("awaiting_payment", "open")
    pg.execute("ALTER TABLE outbox DROP CONSTRAINT no_rows")
    assert deliver(session_event("checkout.session.completed", sid, rid))[0] == 200  # Stripe's retry
    assert state(pg) == ("paid", "paid")


# ---------------------------------------------------------------- junk is refused before it costs anything


class _Untouchable:
    """A database or signature checker that must not be reached."""

    def __init__(self) -> None:
        self.touched: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.touched.append(name)
        raise AssertionError(f"{name} reached")


def test_a_delivery_without_a_signature_header_is_refused_before_the_secret_or_the_database(env: Env) -> None:
    database, signatures = _Untouchable(), _Untouchable()
    deps = with_fakes(database=database, signatures=signatures)
    for header in (None, ""):
        with pytest.raises(errors.InvalidSignature):
            webhook.receive(deps, json.dumps(session_event("checkout.session.completed", "cs_x", "r")), header)
    assert database.touched == signatures.touched == []
    # Through the function URL with no secret configured (a deploy gone wrong): a 400, not a 500 Stripe retries
    env(STRIPE_WEBHOOK_SECRET=None, ENVIRONMENT="production", DATABASE_URL="postgresql://nobody@127.0.0.1:9/none")
    status, _, body = invoke("webhook", "POST", "/webhooks/stripe", "$default", body="{}", headers={})
    assert (status, body["error"]["code"]) == (400, "INVALID_SIGNATURE")


def test_a_body_over_64_kib_is_refused_before_the_secret_or_the_database(env: Env) -> None:
    env(MAX_BODY_BYTES=str(1024 * 1024))  # the API's limit may be raised; the webhook's is Stripe's own size
    database, signatures = _Untouchable(), _Untouchable()
    payload = json.dumps({"id": "evt_big", "padding": "x" * (64 * 1024)})
    with pytest.raises(errors.PayloadTooLarge):
        webhook.receive(with_fakes(database=database, signatures=signatures), payload, sign(payload, SECRET))
    assert database.touched == signatures.touched == []
