"""Read-only: what happened to a reckoning, for the on-call timeline (sql/timeline.sql)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from reckoning.db.connection import Connection
from reckoning.db.queries import every

_QUERIES = ("timeline_status", "timeline_payments", "timeline_stripe_events", "timeline_attempts", "timeline_emails")


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    kind: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "kind": self.kind, "detail": self.detail}


def of(conn: Connection, reckoning_id: UUID) -> list[Entry]:
    entries = [entry for name in _QUERIES for entry in every(conn, name, lambda row: Entry(**row), id=reckoning_id)]
    return sorted(entries, key=lambda entry: entry.at)
