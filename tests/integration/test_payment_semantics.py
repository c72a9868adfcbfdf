"""Payment semantics that hold, each hole reproduced through the Stripe stub or signed webhooks:

- a second checkout session only once the first can no longer be paid (expired at Stripe), none when it was paid;
- a reckoning is refunded only when no payment for it still stands;
- a refund while the report is being written stops the worker: no release, no link, no email;
- `regenerate` refuses while a worker holds a live lease, and a worker whose claim was taken over writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from reckoning import config, db, errors
from reckoning.config import DEV_WEBHOOK_SECRET
from reckoning.db import payments
from reckoning.db.payments import NewPayment
from reckoning.dependencies import Dependencies
from reckoning.domain import checkout as checkout_domain
from reckoning.domain import operations
from reckoning.models.job import GenerateJob
from reckoning.models.submission import Submission
from reckoning.ports import Draft
from reckoning.providers.checkout import OfflineCheckout
from reckoning.providers.email import OutboxMailer
from reckoning.providers.offline_writer import OfflineWriter
from reckoning.providers.storage import S3Store
from tests.helpers import Env, count, generate_report, invoke, submission, with_fakes
from tests.stubs.stripe import StripeStub, refund_event, session_event, sign

CHECKOUT = ("checkout", "POST", "/api/checkout", "POST /api/checkout")


@pytest.fixture
def stripe_stub(env: Env) -> Iterator[StripeStub]:
    stub = StripeStub()
    stub.server.start()
    env(STRIPE_SECRET_KEY="sk_test_reckoning", STRIPE_API_BASE=stub.url, STRIPE_TIMEOUT_S="1")
    yield stub
    stub.server.stop()


def submitted() -> tuple[str, UUID]:
    status, _, body = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())
    assert status == 201
    token: str = body["data"]["token"]
    with db.database().transaction() as conn:
        from reckoning.domain.services.tokens import reckoning_for

        return token, reckoning_for(conn, token).id


def deliver(event: dict[str, Any]) -> int:
    """A Stripe event, signed with the offline webhook secret, through the webhook function."""
    payload = json.dumps(event)
    headers = {"stripe-signature": sign(payload, DEV_WEBHOOK_SECRET)}
    status, _, _ = invoke("webhook", "POST", "/webhooks/stripe", "$default", body=payload, headers=headers)
    return status


def report_status(token: str) -> tuple[int, Any]:
    route = ("report", "GET", f"/api/report/{token}", "GET /api/report/{token}")
    status, _, body = invoke(*route, path_parameters={"token": token})
    return status, body


def statuses(pg: psycopg.Connection[Any]) -> list[str]:
    return [row["status"] for row in pg.execute("SELECT status FROM payments ORDER BY generation")]


# ---------------------------------------------------------------- one payable session at a time


def test_a_session_near_its_end_is_expired_at_stripe_before_another_is_handed_out(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any]
) -> None:
    # Given an open session with under five minutes left (too short to pay in)
    token, _ = submitted()
    first = invoke(*CHECKOUT, body={"token": token})[2]["data"]["sessionId"]
    pg.execute("UPDATE payments SET expires_at = now() + interval '4 minutes'")
    # When the person asks to pay again
    status, _, body = invoke(*CHECKOUT, body={"token": token})
    # Then a new session, and the first can no longer be paid: both payable was the hole
    assert status == 200 and body["data"]["sessionId"] != first
    assert stripe_stub.session(first)["status"] == "expired"
    with pytest.raises(ValueError, match="expired session cannot be paid"):
        stripe_stub.pay(first, "pi_late")
    assert statuses(pg) == ["expired", "open"]


def test_a_session_paid_at_stripe_meanwhile_opens_no_second_one(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any]
) -> None:
    # Given the person paid the first session at Stripe, and its webhook has not arrived yet
    token, _ = submitted()
    first = invoke(*CHECKOUT, body={"token": token})[2]["data"]["sessionId"]
    stripe_stub.pay(first, "pi_first")
    pg.execute("UPDATE payments SET expires_at = now() + interval '4 minutes'")
    # When checkout is asked again, Stripe refuses to expire a completed session
    status, _, body = invoke(*CHECKOUT, body={"token": token})
    # Then no second session: the webhook will mark the reckoning paid
    assert (status, body["error"]["code"]) == (409, "CONFLICT")
    assert len(stripe_stub.creates()) == 1
    assert statuses(pg) == ["open"]


def test_a_session_stripe_expired_by_itself_is_replaced(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any]
) -> None:
    token, _ = submitted()
    first = invoke(*CHECKOUT, body={"token": token})[2]["data"]["sessionId"]
    stripe_stub.lapse(first)  # expired at Stripe; its checkout.session.expired event is still on the way
    pg.execute("UPDATE payments SET expires_at = now() - interval '1 second'")
    status, _, body = invoke(*CHECKOUT, body={"token": token})
    assert status == 200 and body["data"]["sessionId"] != first
    expires = [r.path for r in stripe_stub.server.calls("POST", f"/v1/checkout/sessions/{first}/expire")]
    assert expires, "Stripe was asked to expire it (400: not open), then told us it is expired"
    assert statuses(pg) == ["expired", "open"]


def test_stripe_down_while_expiring_is_a_503_and_opens_nothing(
    database_url: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any], env: Env
) -> None:
    token, _ = submitted()
    invoke(*CHECKOUT, body={"token": token})
    pg.execute("UPDATE payments SET expires_at = now() + interval '4 minutes'")
    env(STRIPE_API_BASE="http://127.0.0.1:9")
    status, headers, body = invoke(*CHECKOUT, body={"token": token})
    assert (status, body["error"]["code"]) == (503, "SERVICE_UNAVAILABLE") and int(headers["Retry-After"]) > 0
    assert len(stripe_stub.creates()) == 1
    assert statuses(pg) == ["open"]


# ---------------------------------------------------------------- refunds


def paid_twice(pg: psycopg.Connection[Any]) -> tuple[str, UUID, list[str]]:
    """A reckoning paid through two sessions (two payable sessions, as checkout opened before this fix)."""
    token, reckoning_id = submitted()
    first = checkout_domain.start_checkout(with_fakes(checkout=OfflineCheckout()), token).session_id
    second = NewPayment(reckoning_id, 2, "cs_test_second", "https://checkout.example/2", 2900, "eur",
                        datetime.now(UTC) + timedelta(hours=1))  # fmt: skip
    with db.database().transaction() as conn:
        payments.insert(conn, second)
    for session, intent in ((first, "pi_first"), ("cs_test_second", "pi_second")):
        assert (
            deliver(session_event("checkout.session.completed", session, str(reckoning_id), payment_intent=intent))
            == 200
        )
    return token, reckoning_id, [first, "cs_test_second"]


def test_refunding_the_flagged_duplicate_leaves_the_reckoning_and_its_links(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    token, _, _ = paid_twice(pg)
    assert pg.execute("SELECT outcome FROM stripe_events ORDER BY received_at").fetchall()[-1] == {"outcome": "flagged"}
    # When on-call refunds the duplicate, as the flag asks
    assert deliver(refund_event("pi_second")) == 200
    # Then the reckoning stands on its first payment: still paid, its link still opens
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "paid"}
    assert statuses(pg) == ["paid", "refunded"]
    assert report_status(token)[0] == 200
    # And refunding the first payment too refunds the reckoning: its link shows that, and no report
    assert deliver(refund_event("pi_first")) == 200
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "refunded"}
    status, body = report_status(token)
    assert (status, body["data"]["status"], body["data"].get("report")) == (200, "refunded", None)


# ---------------------------------------------------------------- a refund while the report is written


@dataclass
class RefundedWhileWriting:
    """Writes the report; meanwhile the person's charge is refunded (a signed charge.refunded arrives)."""

    intent: str
    model: str = "offline"

    def write(self, sub: Submission, feedback: Sequence[str] = ()) -> Draft:
        assert deliver(refund_event(self.intent)) == 200
        return OfflineWriter().write(sub, feedback)


class RefundedAfterUpload(S3Store):
    """Stores the PDF; meanwhile the charge is refunded (after the report was saved, before its email)."""

    def __init__(self, intent: str) -> None:
        super().__init__(config.settings().report_bucket)
        self.intent = intent

    def put_pdf_if_absent(self, key: str, body: bytes) -> bool:
        stored = super().put_pdf_if_absent(key, body)
        assert deliver(refund_event(self.intent)) == 200
        return stored


def paid_by_webhook(intent: str) -> tuple[str, UUID]:
    token, reckoning_id = submitted()
    session = checkout_domain.start_checkout(with_fakes(checkout=OfflineCheckout()), token).session_id
    completed = session_event("checkout.session.completed", session, str(reckoning_id), payment_intent=intent)
    assert deliver(completed) == 200
    return token, reckoning_id


@pytest.mark.parametrize("when", ["while the model writes", "after the report was saved"])
def test_a_refund_during_generation_stops_the_worker(
    when: str, database_url: str, report_queue: str, report_bucket: str, tmp_path: Path, pg: psycopg.Connection[Any]
) -> None:
    token, reckoning_id = paid_by_webhook("pi_refunded")
    mailer = OutboxMailer(tmp_path / "outbox")
    deps = with_fakes(OfflineWriter(), mailer)
    if when == "while the model writes":
        deps = replace(deps, writer=RefundedWhileWriting("pi_refunded"))
    else:
        deps = replace(deps, store=RefundedAfterUpload("pi_refunded"))

    outcome = generate_report(GenerateJob(reckoning_id=reckoning_id), deps)

    # The worker noticed and stopped: no fresh link, no "Your Reckoning is ready" to a refunded person
    assert outcome == "superseded"
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "refunded"}
    assert count(pg, "emails") == 0 and not list((tmp_path / "outbox").glob("*.eml"))
    assert count(pg, "access_tokens") == 1  # only the one submitting handed out: no link was minted for an email
    assert count(pg, "reports") == (0 if when == "while the model writes" else 1)
    status, body = report_status(token)  # the person's own link shows the refund, and no report
    assert (status, body["data"]["status"], body["data"].get("report")) == (200, "refunded", None)


# ---------------------------------------------------------------- regenerate and two workers


def test_regenerate_refuses_while_a_worker_holds_a_live_lease(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    _, reckoning_id = paid_by_webhook("pi_1")
    pg.execute("UPDATE reckonings SET status = 'generating', lease_expires_at = now() + interval '10 minutes'")
    queued = count(pg, "outbox")
    with pytest.raises(errors.Conflict, match="lease"):
        operations.regenerate(with_fakes(), reckoning_id)
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "generating"}
    assert count(pg, "outbox") == queued
    # Once the lease has run out (its worker died), on-call may
    pg.execute("UPDATE reckonings SET lease_expires_at = now() - interval '1 second'")
    operations.regenerate(with_fakes(), reckoning_id)
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "paid"}


@dataclass
class Overtaken:
    """A worker so slow that its lease runs out mid-call, and a second worker does the whole job meanwhile."""

    second: Dependencies
    reckoning_id: UUID
    model: str = "offline"

    def write(self, sub: Submission, feedback: Sequence[str] = ()) -> Draft:
        with db.database().transaction() as conn:
            conn.execute("UPDATE reckonings SET lease_expires_at = now() - interval '1 second'")
        job = GenerateJob(reckoning_id=self.reckoning_id, reason="retry")
        assert generate_report(job, self.second) == "ready"
        return OfflineWriter().write(sub, feedback)


def test_a_worker_whose_claim_was_taken_over_writes_nothing(
    database_url: str, report_queue: str, report_bucket: str, tmp_path: Path, pg: psycopg.Connection[Any]
) -> None:
    _, reckoning_id = paid_by_webhook("pi_1")
    mailer = OutboxMailer(tmp_path / "outbox")
    second = with_fakes(OfflineWriter(), mailer)
    first = replace(second, writer=Overtaken(second, reckoning_id))
    assert generate_report(GenerateJob(reckoning_id=reckoning_id), first) == "superseded"
    assert pg.execute("SELECT status, attempts FROM reckonings").fetchone() == {"status": "ready", "attempts": 2}
    assert pg.execute("SELECT version FROM reports").fetchall() == [{"version": 1}]
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
