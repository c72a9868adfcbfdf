"""What a token holder may see of their reckoning."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from reckoning import db, errors
from reckoning.db import reckonings
from reckoning.domain import tokens
from reckoning.models.api import ReportStatus

_PLAIN = {
    "failed": "We could not write your report. We have been alerted and will be in touch.",
    "needs_review": "Your report is being reviewed by a person before release.",
    "refunded": "This reckoning was refunded; the report is no longer available.",
}


def retry_after(status: str, seconds_in_status: float) -> int:
    """Polling hint: short at first, growing with time spent in the state, capped."""
    base, cap = (10, 60) if status == "awaiting_payment" else (2, 30)
    return min(cap, base + math.floor(seconds_in_status / 15))


def report_status(database: db.Database, token: str) -> ReportStatus:
    token_hash = tokens.token_hash_or_not_found(token)
    with database.transaction() as conn:
        row = reckonings.by_token(conn, token_hash)
    if row is None:
        raise errors.NotFound("unknown token")
    status = row["status"]
    if status in _PLAIN:
        return ReportStatus(status=status, message=_PLAIN[status])
    elapsed = (datetime.now(UTC) - row["status_changed_at"]).total_seconds()
    return ReportStatus(status=status, retry_after_seconds=retry_after(status, elapsed))
