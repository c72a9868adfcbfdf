"""Payments, the Stripe event ledger and the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from reckoning.db.connection import Connection, one
from reckoning.db.queries import q

Row = dict[str, Any]


def latest(conn: Connection, reckoning_id: UUID) -> Row | None:
    return conn.execute(q("latest_payment"), {"reckoning_id": reckoning_id}).fetchone()


def insert(
    conn: Connection,
    *,
    reckoning_id: UUID,
    generation: int,
    session_id: str,
    url: str,
    amount: int,
    currency: str,
    expires_at: datetime,
) -> Row:
    """Record a checkout session; a concurrent caller's identical row wins silently."""
    conn.execute(
        q("insert_payment"),
        {
            "reckoning_id": reckoning_id,
            "generation": generation,
            "checkout_session_id": session_id,
            "checkout_url": url,
            "amount": amount,
            "currency": currency,
            "expires_at": expires_at,
        },
    )
    return one(conn.execute(q("payment_by_generation"), {"reckoning_id": reckoning_id, "generation": generation}))


def by_session_for_update(conn: Connection, session_id: str) -> Row | None:
    return conn.execute(q("payment_by_session_for_update"), {"checkout_session_id": session_id}).fetchone()


def by_intent_for_update(conn: Connection, payment_intent_id: str) -> Row | None:
    return conn.execute(q("payment_by_intent_for_update"), {"payment_intent_id": payment_intent_id}).fetchone()


def set_status(
    conn: Connection, payment_id: UUID, status: str, from_statuses: Sequence[str], payment_intent_id: str | None = None
) -> bool:
    params = {
        "id": payment_id,
        "status": status,
        "from_statuses": list(from_statuses),
        "payment_intent_id": payment_intent_id,
    }
    return conn.execute(q("set_payment_status"), params).fetchone() is not None


def flag(conn: Connection, payment_id: UUID, reason: str) -> None:
    conn.execute(q("flag_payment"), {"id": payment_id, "reason": reason})


def mark_reckoning_paid(conn: Connection, reckoning_id: UUID) -> bool:
    return conn.execute(q("mark_reckoning_paid"), {"id": reckoning_id}).fetchone() is not None


def mark_reckoning_refunded(conn: Connection, reckoning_id: UUID) -> bool:
    return conn.execute(q("mark_reckoning_refunded"), {"id": reckoning_id}).fetchone() is not None


def record_event(
    conn: Connection,
    *,
    event_id: str,
    event_type: str,
    created: int,
    livemode: bool,
    session_id: str | None,
    payment_intent_id: str | None,
) -> bool:
    """Add the event to the ledger; False when it was already there (a duplicate delivery)."""
    params = {
        "id": event_id,
        "type": event_type,
        "created": created,
        "livemode": livemode,
        "checkout_session_id": session_id,
        "payment_intent_id": payment_intent_id,
    }
    return conn.execute(q("record_stripe_event"), params).fetchone() is not None


def finish_event(
    conn: Connection, event_id: str, outcome: str, reckoning_id: UUID | None, flag_reason: str | None
) -> None:
    params = {"id": event_id, "outcome": outcome, "reckoning_id": reckoning_id, "flag_reason": flag_reason}
    conn.execute(q("finish_stripe_event"), params)


def has_unmatched_refund(conn: Connection, payment_intent_id: str) -> bool:
    return (
        conn.execute(q("unmatched_refund_for_intent"), {"payment_intent_id": payment_intent_id}).fetchone() is not None
    )


def enqueue(conn: Connection, dedupe_key: str, payload: dict[str, Any], topic: str = "report_queue") -> bool:
    """Add an outbox message; False when one with the same dedupe key exists."""
    params = {"topic": topic, "dedupe_key": dedupe_key, "payload": Jsonb(payload)}
    return conn.execute(q("insert_outbox"), params).fetchone() is not None


def pending_outbox(conn: Connection, limit: int) -> list[Row]:
    """Unsent messages, locked for this transaction (concurrent relays skip them)."""
    return conn.execute(q("pending_outbox"), {"limit": limit}).fetchall()


def mark_outbox(conn: Connection, sent: Sequence[int], failed: Sequence[int], error: str | None) -> None:
    if sent:
        conn.execute(q("mark_outbox_sent"), {"ids": list(sent)})
    if failed:
        conn.execute(q("mark_outbox_failed"), {"ids": list(failed), "error": error})
