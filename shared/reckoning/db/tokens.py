"""The access_tokens table, and the one way from a token to its reckoning (sql/tokens.sql)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from reckoning.db.connection import Connection
from reckoning.db.queries import changed, count, first
from reckoning.db.reckonings import Reckoning


def insert(conn: Connection, token_hash: bytes, reckoning_id: UUID, purpose: str, expires_at: datetime) -> None:
    changed(
        conn, "insert_token", token_hash=token_hash, reckoning_id=reckoning_id, purpose=purpose, expires_at=expires_at
    )


def reckoning_for(conn: Connection, token_hash: bytes) -> Reckoning | None:
    """The reckoning of a live token (neither revoked nor expired)."""
    return first(conn, "reckoning_by_token", Reckoning.from_row, token_hash=token_hash)


def revoke(conn: Connection, reckoning_id: UUID) -> int:
    """Revoke every live token of the reckoning; how many there were."""
    return count(conn, "revoke_tokens", reckoning_id=reckoning_id)
