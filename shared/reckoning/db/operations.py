"""Queries behind the on-call commands."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from reckoning.db.connection import Connection
from reckoning.db.queries import q

_TIMELINE = ("timeline_status", "timeline_payments", "timeline_stripe_events", "timeline_attempts", "timeline_emails")


def reopen(conn: Connection, reckoning_id: UUID, reason: str) -> bool:
    return conn.execute(q("reopen_for_generation"), {"id": reckoning_id, "reason": reason}).fetchone() is not None


def timeline(conn: Connection, reckoning_id: UUID) -> list[dict[str, Any]]:
    rows = [row for name in _TIMELINE for row in conn.execute(q(name), {"id": reckoning_id}).fetchall()]
    return sorted(rows, key=lambda row: row["at"])
