"""The emails table: one row per idempotency key (sql/emails.sql; `domain.emails.send_once` uses it)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from reckoning.db.connection import Connection
from reckoning.db.queries import changed, first

Kind = Literal["report_ready", "report_links"]
EmailStatus = Literal["pending", "sent", "failed"]


def status(conn: Connection, key: str) -> EmailStatus | None:
    """Where the email of this key is; None when there is none yet."""
    return first(conn, "email_status", lambda row: row["status"], idempotency_key=key)


def insert(conn: Connection, reckoning_id: UUID, kind: Kind, key: str) -> bool:
    return changed(conn, "insert_email", reckoning_id=reckoning_id, kind=kind, idempotency_key=key)


def mark_sent(conn: Connection, key: str, provider_id: str) -> bool:
    return changed(conn, "mark_email_sent", idempotency_key=key, provider_id=provider_id)


def mark_failed(conn: Connection, key: str, error_class: str) -> bool:
    return changed(conn, "mark_email_failed", idempotency_key=key, error_class=error_class)
