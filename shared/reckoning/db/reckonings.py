"""Reckonings, their access tokens and the rate-limit counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from reckoning.db.connection import Connection, one
from reckoning.db.queries import q


def insert(conn: Connection, email: str, name: str | None, version: str, answers: dict[str, Any]) -> UUID:
    params = {"email": email, "name": name, "questionnaire_version": version, "answers": Jsonb(answers)}
    row = one(conn.execute(q("insert_reckoning"), params))
    return UUID(str(row["id"]))


def insert_token(
    conn: Connection, token_hash: bytes, reckoning_id: UUID, purpose: str, expires_at: datetime | None
) -> None:
    conn.execute(
        q("insert_access_token"),
        {"token_hash": token_hash, "reckoning_id": reckoning_id, "purpose": purpose, "expires_at": expires_at},
    )


def by_token(conn: Connection, token_hash: bytes) -> dict[str, Any] | None:
    return conn.execute(q("reckoning_by_token"), {"token_hash": token_hash}).fetchone()


def by_id(conn: Connection, reckoning_id: UUID) -> dict[str, Any] | None:
    return conn.execute(q("reckoning_by_id"), {"id": reckoning_id}).fetchone()


def revoke_tokens(conn: Connection, reckoning_id: UUID) -> int:
    return conn.execute(q("revoke_tokens"), {"reckoning_id": reckoning_id}).rowcount


def hit_rate_limit(conn: Connection, bucket: str, window_s: int) -> tuple[int, int]:
    """Count one request in the bucket's current window: (count so far, seconds until the window resets)."""
    row = one(conn.execute(q("hit_rate_limit"), {"bucket": bucket, "window_s": window_s}))
    return int(row["count"]), max(1, int(row["resets_in"]))


def released_report(conn: Connection, reckoning_id: UUID) -> dict[str, Any] | None:
    return conn.execute(q("released_report"), {"reckoning_id": reckoning_id}).fetchone()


def with_access_for_email(conn: Connection, email: str) -> list[dict[str, Any]]:
    return conn.execute(q("reckonings_with_access_for_email"), {"email": email}).fetchall()
