"""The report queue's progress watermark (sql/queue_progress.sql): what the sweeper measures waiting against."""

from __future__ import annotations

from datetime import datetime

from reckoning.db.connection import Connection
from reckoning.db.queries import changed


def advance(conn: Connection, sent_at: datetime) -> None:
    """A worker received a job the queue got at `sent_at`: the watermark moves forward, never back."""
    changed(conn, "advance_queue_progress", sent_at=sent_at)
