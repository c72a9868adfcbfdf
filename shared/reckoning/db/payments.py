"""Payments and the ledger of Stripe events about them, one aggregate (sql/payments.sql)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from reckoning.db.connection import Connection, one
from reckoning.db.queries import changed, first, q
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


def insert(conn: Connection, payment: NewPayment) -> Payment:
    """Record a checkout session; a concurrent caller's row for the same generation wins silently."""
    return Payment.from_row(one(conn.execute(q("insert_payment"), asdict(payment))))


def by_session_for_update(conn: Connection, session_id: str) -> Payment | None:
    return first(conn, "payment_by_session_for_update", Payment.from_row, checkout_session_id=session_id)


def by_intent_for_update(conn: Connection, payment_intent_id: str) -> Payment | None:
    return first(conn, "payment_by_intent_for_update", Payment.from_row, payment_intent_id=payment_intent_id)


def set_status(
    conn: Connection,
    payment_id: UUID,
    status: PaymentStatus,
    leaving: Collection[PaymentStatus],
    payment_intent_id: str | None = None,
) -> bool:
    """Move forward to `status` from one of the states it may leave; False when it was in none of them."""
    params = {"status": str(status), "from_statuses": [str(s) for s in leaving]}
    return changed(conn, "set_payment_status", id=payment_id, payment_intent_id=payment_intent_id, **params)


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
