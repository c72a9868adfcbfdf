"""What a token holder may see of their reckoning: its status, the report when ready, the PDF."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from reckoning import db, errors
from reckoning.config import settings
from reckoning.domain import tokens
from reckoning.domain.pdfs import ensure_pdf
from reckoning.models.api import GenerationError, ReportStatus
from reckoning.models.status import Status

_PLAIN = {
    Status.FAILED: "We could not write your report. We have been alerted and will be in touch.",
    Status.NEEDS_REVIEW: "Your report is being reviewed by a person before release.",
    Status.REFUNDED: "This reckoning was refunded; the report is no longer available.",
}


@dataclass(frozen=True, slots=True)
class StatusView:
    body: ReportStatus
    version: str | None = None  # the ready report's identity and version: what a cache may compare


def retry_after(status: str, seconds_in_status: float) -> int:
    """Polling hint: short at first, growing with time spent in the state, capped."""
    base, cap = (10, 60) if status == Status.AWAITING_PAYMENT else (2, 30)
    return min(cap, base + math.floor(seconds_in_status / 15))


def report_status(database: db.Database, token: str) -> StatusView:
    view = tokens.holder_view(database, token)
    if view.report is not None:
        report = view.report
        body = ReportStatus(status=Status.READY, report=report.report, confidence=report.confidence)
        return StatusView(body, version=f"{report.id}-v{report.version}")
    if view.status == Status.FAILED:
        message = _PLAIN[Status.FAILED]
        return StatusView(ReportStatus(status=Status.FAILED, message=message, error=GenerationError(message=message)))
    if view.status in _PLAIN:
        return StatusView(ReportStatus(status=view.status, message=_PLAIN[view.status]))
    elapsed = (datetime.now(UTC) - view.status_changed_at).total_seconds()
    return StatusView(ReportStatus(status=view.status, retry_after_seconds=retry_after(view.status, elapsed)))


def pdf_location(database: db.Database, token: str) -> str:
    """A short-lived presigned URL of the report's PDF, rendering and storing it if the object is missing."""
    from reckoning import pdf
    from reckoning.providers import storage

    view = tokens.holder_view(database, token)
    if view.report is None:
        raise errors.Conflict("the report is not ready")
    key = ensure_pdf(database, storage, pdf.render, view.name, view.report)
    return storage.presigned_pdf_url(key, settings().pdf_url_ttl_s)
