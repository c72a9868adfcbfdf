"""What a token holder may see of their reckoning: its status, the report when ready, the PDF."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from reckoning import db, errors
from reckoning.config import settings
from reckoning.db import reckonings
from reckoning.domain import tokens
from reckoning.models.api import ReportStatus
from reckoning.models.report import Report

_PLAIN = {
    "failed": "We could not write your report. We have been alerted and will be in touch.",
    "needs_review": "Your report is being reviewed by a person before release.",
    "refunded": "This reckoning was refunded; the report is no longer available.",
}


@dataclass(frozen=True, slots=True)
class StatusView:
    body: ReportStatus
    etag: str | None = None


def retry_after(status: str, seconds_in_status: float) -> int:
    """Polling hint: short at first, growing with time spent in the state, capped."""
    base, cap = (10, 60) if status == "awaiting_payment" else (2, 30)
    return min(cap, base + math.floor(seconds_in_status / 15))


def _reckoning(conn: db.Connection, token: str) -> dict[str, Any]:
    row = reckonings.by_token(conn, tokens.token_hash_or_not_found(token))
    if row is None:
        raise errors.NotFound("unknown token")
    return row


def report_status(database: db.Database, token: str) -> StatusView:
    with database.transaction() as conn:
        row = _reckoning(conn, token)
        report = reckonings.released_report(conn, row["id"]) if row["status"] == "ready" else None
    status = row["status"]
    if report is not None:
        body = ReportStatus(
            status="ready",
            report=Report.model_validate(report["content"]),
            confidence=float(report["confidence"]),
            pdf_url=f"/api/report/{token}/pdf",
        )
        return StatusView(body, etag=f'"{report["id"]}-v{report["version"]}"')
    if status in _PLAIN:
        return StatusView(ReportStatus(status=status, message=_PLAIN[status]))
    elapsed = (datetime.now(UTC) - row["status_changed_at"]).total_seconds()
    return StatusView(ReportStatus(status=status, retry_after_seconds=retry_after(status, elapsed)))


def pdf_location(database: db.Database, token: str) -> str:
    """A short-lived presigned URL of the report's PDF, rendering and caching it if the object is missing."""
    from reckoning.providers import storage

    with database.transaction() as conn:
        row = _reckoning(conn, token)
        report = reckonings.released_report(conn, row["id"]) if row["status"] == "ready" else None
    if report is None:
        raise errors.Conflict("the report is not ready")
    reckoning_id: UUID = row["id"]
    key = storage.pdf_key(reckoning_id, report["version"])
    if not storage.exists(key):
        from reckoning import pdf

        rendered = pdf.render(Report.model_validate(report["content"]), row["name"], report["updated_at"])
        storage.put_pdf_if_absent(key, rendered)
    return storage.presigned_pdf_url(key, settings().pdf_url_ttl_s)
