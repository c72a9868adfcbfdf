"""Payments and the ledger of Stripe events about them, one aggregate (sql/payments.sql)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from reckoning.db.connection import Connection, one
from reckoning.db.queries import changed, every, first, q
from reckoning.models.status import PaymentStatus
from reckoning.models.stripe import StripeEvent


@dataclass(frozen=True, slots=True)
class Payment:
    id: UUID
    reckoning_id: UUID
    generation: int
    checkout_session_id: str
    checkout_url: str | None  # every session we record has one, until an erasure clears it
    payment_intent_id: str | None
    amount: int
    currency: str
    status: PaymentStatus
    expires_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Payment:
        return cls(**{**row, "status": PaymentStatus(row["status"])})


@dataclass(frozen=True, slots=True)
class NewPayment:
    """A Checkout session, as recorded when it is handed out."""

    reckoning_id: UUID
    generation: int
    checkout_session_id: str
    checkout_url: str
    amount: int
    currency: str
    expires_at: datetime


def latest(conn: Connection, reckoning_id: UUID) -> Payment | None:
    return first(conn, "latest_payment", Payment.from_row, reckoning_id=reckoning_id)


def open_of(conn: Connection, reckoning_id: UUID) -> list[Payment]:
    """The reckoning's sessions still open as far as we know (no expiry, completion or failure recorded)."""
    return every(conn, "open_payments_of", Payment.from_row, reckoning_id=reckoning_id)


def insert(conn: Connection, payment: NewPayment) -> Payment:
    """Record a checkout session; a concurrent caller's row for the same generation wins silently."""
    return Payment.from_row(one(conn.execute(q("insert_payment"), asdict(payment))))


def by_session_for_update(conn: Connection, session_id: str) -> Payment | None:
    return first(conn, "payment_by_session_for_update", Payment.from_row, checkout_session_id=session_id)


def by_intent_for_update(conn: Connection, payment_intent_id: str) -> Payment | None:
    return first(conn, "payment_by_intent_for_update", Payment.from_row, payment_intent_id=payment_intent_id)


# The transitions of a payment, each a conditional update that names the states it leaves (sql/payments.sql):
# True when it moved, False when it was in none of them (a repeat, or an event that came too late).


def mark_processing(conn: Connection, payment_id: UUID, payment_intent_id: str | None) -> bool:
    return changed(conn, "payment_processing", id=payment_id, payment_intent_id=payment_intent_id)


def mark_paid(conn: Connection, payment_id: UUID, payment_intent_id: str | None) -> bool:
    return changed(conn, "payment_paid", id=payment_id, payment_intent_id=payment_intent_id)


def mark_failed(conn: Connection, payment_id: UUID) -> bool:
    return changed(conn, "payment_failed", id=payment_id)


def expire(conn: Connection, payment_id: UUID) -> bool:
    return changed(conn, "payment_expired", id=payment_id)


def refund(conn: Connection, payment_id: UUID) -> bool:
    return changed(conn, "payment_refunded", id=payment_id)


TRANSITIONS = {
    "mark_processing": (PaymentStatus.PROCESSING, {PaymentStatus.OPEN}),
    "mark_paid": (PaymentStatus.PAID, {PaymentStatus.OPEN, PaymentStatus.PROCESSING}),
    "mark_failed": (PaymentStatus.FAILED, {PaymentStatus.OPEN, PaymentStatus.PROCESSING}),
    "expire": (PaymentStatus.EXPIRED, {PaymentStatus.OPEN}),
    "refund": (PaymentStatus.REFUNDED, {PaymentStatus.OPEN, PaymentStatus.PROCESSING, PaymentStatus.PAID}),
}
"""Each transition's target and the states it leaves, as the SQL says: what the payment matrix test holds it to."""


def flag(conn: Connection, payment_id: UUID, reason: str) -> None:
    changed(conn, "flag_payment", id=payment_id, reason=reason)


def record_event(conn: Connection, event: StripeEvent) -> bool:
    """Add the event to the ledger; False when it was already there (a duplicate delivery)."""
    params = {"id": event.id, "type": event.type, "created": event.created, "livemode": event.livemode}
    ids = {"checkout_session_id": event.session_id, "payment_intent_id": event.payment_intent_id}
    return changed(conn, "record_stripe_event", **params, **ids)


def finish_event(
    conn: Connection, event_id: str, outcome: str, reckoning_id: UUID | None, flag_reason: str | None
) -> None:
    changed(
        conn, "finish_stripe_event", id=event_id, outcome=outcome, reckoning_id=reckoning_id, flag_reason=flag_reason
    )


def has_unmatched_refund(conn: Connection, payment_intent_id: str) -> bool:
    """A full refund of this payment intent arrived before the payment's own event."""
    return first(conn, "unmatched_refund_for_intent", dict, payment_intent_id=payment_intent_id) is not None


def still_paid(conn: Connection, reckoning_id: UUID) -> bool:
    """Some payment for the reckoning is paid (and not refunded)."""
    return first(conn, "paid_payment_of", dict, reckoning_id=reckoning_id) is not None
