"""Claims and leases, reports, generation attempts and emails."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from reckoning.db.connection import Connection, one
from reckoning.db.queries import q

Row = dict[str, Any]


def claim(conn: Connection, reckoning_id: UUID, lease_s: int, reason: str) -> Row | None:
    return conn.execute(q("claim_reckoning"), {"id": reckoning_id, "lease_s": lease_s, "reason": reason}).fetchone()


def release_lease(conn: Connection, reckoning_id: UUID) -> None:
    conn.execute(q("release_lease"), {"id": reckoning_id})


def finish(conn: Connection, reckoning_id: UUID, status: str, reason: str | None = None) -> bool:
    params = {"id": reckoning_id, "status": status, "reason": reason}
    return conn.execute(q("finish_reckoning"), params).fetchone() is not None


def fail(conn: Connection, reckoning_id: UUID, reason: str) -> bool:
    return conn.execute(q("fail_reckoning"), {"id": reckoning_id, "reason": reason}).fetchone() is not None


def report_for(conn: Connection, reckoning_id: UUID) -> Row | None:
    return conn.execute(q("report_for"), {"reckoning_id": reckoning_id}).fetchone()


def save_report(
    conn: Connection,
    reckoning_id: UUID,
    *,
    content: dict[str, Any],
    confidence: float,
    layer_results: dict[str, Any],
    released: bool,
    model: str,
    input_tokens: int | None,
    output_tokens: int | None,
) -> int:
    """Insert the report, or replace it as the next version; returns the version."""
    params = {
        "reckoning_id": reckoning_id,
        "content": Jsonb(content),
        "confidence": round(confidence, 3),
        "layer_results": Jsonb(layer_results),
        "released": released,
        "model": model,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }
    return int(one(conn.execute(q("save_report"), params))["version"])


def set_pdf_key(conn: Connection, reckoning_id: UUID, version: int, key: str) -> None:
    conn.execute(q("set_pdf_key"), {"reckoning_id": reckoning_id, "version": version, "pdf_key": key})


def withdraw(conn: Connection, reckoning_id: UUID) -> None:
    conn.execute(q("withdraw_report"), {"reckoning_id": reckoning_id})


def record_attempt(conn: Connection, reckoning_id: UUID, **fields: Any) -> None:
    number = one(conn.execute(q("next_attempt_number"), {"reckoning_id": reckoning_id}))["n"]
    defaults = dict.fromkeys(
        ("model", "latency_ms", "input_tokens", "output_tokens", "stop_reason", "confidence", "passed", "error_class")
    )
    conn.execute(q("insert_attempt"), {**defaults, **fields, "reckoning_id": reckoning_id, "attempt": number})


def email_by_key(conn: Connection, key: str) -> Row | None:
    return conn.execute(q("email_by_key"), {"idempotency_key": key}).fetchone()


def insert_email(conn: Connection, reckoning_id: UUID | None, kind: str, key: str) -> None:
    conn.execute(q("insert_email"), {"reckoning_id": reckoning_id, "kind": kind, "idempotency_key": key})


def mark_email_sent(conn: Connection, key: str, provider_id: str) -> None:
    conn.execute(q("mark_email_sent"), {"idempotency_key": key, "provider_id": provider_id})


def mark_email_failed(conn: Connection, key: str, error_class: str) -> None:
    conn.execute(q("mark_email_failed"), {"idempotency_key": key, "error_class": error_class})
