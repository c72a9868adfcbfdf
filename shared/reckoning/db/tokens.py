"""The access_tokens table, and the one way from a token to its reckoning (sql/tokens.sql)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from reckoning.db.connection import Connection
from reckoning.db.queries import changed, first
from reckoning.db.reckonings import Reckoning
from reckoning.db.reports import StoredReport
from reckoning.models.status import Status


@dataclass(frozen=True, slots=True)
class HolderView:
    """What a token's holder may see: the reckoning's status, and its released report once it is ready."""

    reckoning_id: UUID
    name: str | None
    status: Status
    status_changed_at: datetime
    report: StoredReport | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> HolderView:
        report = None
        if row["report_id"] is not None:
            fields = ("version", "content", "pdf_key", "written_at")
            report = StoredReport(
                id=row["report_id"],
                reckoning_id=row["reckoning_id"],
                confidence=float(row["confidence"]),
                released=True,
                **{name: row[name] for name in fields},
            )
        own = ("reckoning_id", "name", "status_changed_at")
        return cls(status=Status(row["status"]), report=report, **{name: row[name] for name in own})


def insert(conn: Connection, token_hash: bytes, reckoning_id: UUID, purpose: str, expires_at: datetime) -> None:
    changed(
        conn, "insert_token", token_hash=token_hash, reckoning_id=reckoning_id, purpose=purpose, expires_at=expires_at
    )


def reckoning_for(conn: Connection, token_hash: bytes) -> Reckoning | None:
    """The reckoning of a live token (neither revoked nor expired)."""
    return first(conn, "reckoning_by_token", Reckoning.from_row, token_hash=token_hash)


def holder_view(conn: Connection, token_hash: bytes) -> HolderView | None:
    """The view of a live token's holder (None for a token that is unknown, revoked or expired)."""
    return first(conn, "holder_view_by_token", HolderView.from_row, token_hash=token_hash)
