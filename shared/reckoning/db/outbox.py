"""The outbox table: queue messages committed with the change that caused them (sql/outbox.sql)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from reckoning.db.connection import Connection
from reckoning.db.queries import changed, count, every
from reckoning.models.job import Job, links_job_without_reckoning, wire

TOPIC = "report_queue"


def enqueue(conn: Connection, job: Job, dedupe_key: str) -> bool:
    """Add the job's message; False when one with the same dedupe key is already there."""
    return changed(
        conn,
        "insert_outbox",
        topic=TOPIC,
        dedupe_key=dedupe_key,
        payload=Jsonb(wire(job)),
    )


def enqueue_links_for_address(conn: Connection, email: str, request_id: str, dedupe_key: str) -> bool:
    """Add a links job for the address's oldest paid reckoning; False when the address has none, or a message
    with the same dedupe key is already there."""
    payload = Jsonb(links_job_without_reckoning(request_id))
    return changed(conn, "insert_outbox_for_address", topic=TOPIC, dedupe_key=dedupe_key, payload=payload, email=email)


def pending(conn: Connection, limit: int) -> dict[int, dict[str, Any]]:
    """Unsent message bodies by outbox id, locked for this transaction (concurrent relays skip them)."""
    rows = every(conn, "pending_outbox", lambda row: (int(row["id"]), row["payload"]), limit=limit)
    return dict(rows)


def mark(conn: Connection, sent: Sequence[int], failed: Sequence[int], error: str | None) -> None:
    if sent:
        changed(conn, "mark_outbox_sent", ids=list(sent))
    if failed:
        changed(conn, "mark_outbox_failed", ids=list(failed), error=error)


def prune_sent(conn: Connection, older_than_s: int) -> int:
    """Delete messages sent over `older_than_s` ago; how many went."""
    return count(conn, "prune_sent_outbox", older_than_s=older_than_s)


def mark_by_key(conn: Connection, sent: Sequence[str], failed: Sequence[str], error: str | None) -> None:
    """`mark` for messages known by their dedupe keys (a sender that has them in hand)."""
    if sent:
        changed(conn, "mark_outbox_sent_by_key", keys=list(sent))
    if failed:
        changed(conn, "mark_outbox_failed_by_key", keys=list(failed), error=error)
