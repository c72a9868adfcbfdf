"""A reckoning's report (one row, versioned) and every model call made to write it (sql/reports.sql)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from reckoning.db.connection import Connection, one
from reckoning.db.queries import changed, every, first, q
from reckoning.models.report import Report


@dataclass(frozen=True, slots=True)
class StoredReport:
    id: UUID
    reckoning_id: UUID
    version: int
    content: dict[str, Any]
    confidence: float
    released: bool
    pdf_key: str | None
    written_at: datetime  # when this version was written: the date its PDF shows

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoredReport:
        return cls(**{**row, "confidence": float(row["confidence"])})

    @property
    def report(self) -> Report:
        return Report.model_validate(self.content)


@dataclass(frozen=True, slots=True)
class NewReport:
    content: dict[str, Any]
    confidence: float
    layer_results: dict[str, Any]
    released: bool
    model: str
    input_tokens: int | None
    output_tokens: int | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One model call: what it cost and how it ended."""

    model: str
    latency_ms: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    stop_reason: str | None = None
    confidence: float | None = None
    passed: bool | None = None
    error_class: str | None = None
    cost_usd: Decimal | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Costs:
    """What a set of reports, or one model's calls, cost (USD): p50 and p95 over the priced ones."""

    count: int
    unpriced: int
    total: Decimal
    p50: float | None
    p95: float | None
    model: str | None = None
    input_tokens: int = 0  # uncached input (per model only)
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Costs:
        count = int(row["priced"])
        unpriced = int(row["unpriced"]) if "unpriced" in row else int(row["calls"]) - count
        tokens = (int(row.get(name) or 0) for name in ("input_tokens", "cache_read_tokens", "cache_write_tokens"))
        return cls(count, unpriced, Decimal(row["total"]), row["p50"], row["p95"], row.get("model"), *tokens)


def current(conn: Connection, reckoning_id: UUID) -> StoredReport | None:
    """The current version, released or not."""
    return first(conn, "report_for", StoredReport.from_row, reckoning_id=reckoning_id)


def released(conn: Connection, reckoning_id: UUID) -> StoredReport | None:
    report = current(conn, reckoning_id)
    return report if report is not None and report.released else None


def save(conn: Connection, reckoning_id: UUID, new: NewReport) -> StoredReport:
    """Insert the report, or replace it as the next version."""
    params = {
        **asdict(new),
        "reckoning_id": reckoning_id,
        "content": Jsonb(new.content),
        "layer_results": Jsonb(new.layer_results),
        "confidence": round(new.confidence, 3),
    }
    return StoredReport.from_row(one(conn.execute(q("save_report"), params)))


def set_pdf_key(conn: Connection, reckoning_id: UUID, version: int, key: str) -> bool:
    return changed(conn, "set_pdf_key", reckoning_id=reckoning_id, version=version, pdf_key=key)


def withdraw(conn: Connection, reckoning_id: UUID) -> bool:
    return changed(conn, "withdraw_report", reckoning_id=reckoning_id)


def record_attempt(conn: Connection, reckoning_id: UUID, attempt: Attempt) -> None:
    changed(conn, "insert_attempt", reckoning_id=reckoning_id, **asdict(attempt))


def cost(conn: Connection, reckoning_id: UUID) -> Decimal | None:
    """What the reckoning's report cost (every call made for it), as saved with its latest version."""
    return first(conn, "report_cost", lambda row: row["cost_usd"], reckoning_id=reckoning_id)


def spent_since(conn: Connection, since: datetime) -> Decimal:
    return Decimal(one(conn.execute(q("spent_since"), {"since": since}))["spent"])


def report_costs_since(conn: Connection, since: datetime) -> Costs:
    return Costs.from_row(one(conn.execute(q("report_costs_since"), {"since": since})))


def model_costs_since(conn: Connection, since: datetime) -> list[Costs]:
    return every(conn, "model_costs_since", Costs.from_row, since=since)
