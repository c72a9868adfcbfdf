"""Lost-link recovery: fresh report links by email, without revealing whether an address is known.

The request only records a job (outbox → report queue); the worker mints the
links and sends one email. Whatever the address, the caller sees the same 202.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from uuid import UUID

from reckoning import db
from reckoning.config import settings
from reckoning.db import payments, reckonings, reports
from reckoning.domain import rate_limit, tokens
from reckoning.observability import logger
from reckoning.providers.email import Mailer, compose_report_links

# One links email per address per window, however often it is asked for.
_WINDOW_S = 600


def _address_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def request_links(database: db.Database, email: str) -> bool:
    """Queue a links email when the address has paid reckonings; True when a job was queued."""
    digest = _address_digest(email)
    if rate_limit.exceeded(database, "links-email", digest, settings().rate_limit_links):
        return False
    window = int(time.time()) // _WINDOW_S
    with database.transaction() as conn:
        found = reckonings.with_access_for_email(conn, email.strip())
        if not found:
            return False
        key = f"links:{digest}:{window}"
        payload = {"reckoningId": str(found[0]["id"]), "reason": "links", "requestId": key}
        return payments.enqueue(conn, key, payload)


def send_links(database: db.Database, reckoning_id: UUID, request_id: str, mailer: Mailer) -> None:
    """Mint fresh, expiring links for every paid reckoning of this reckoning's address, and email them once."""
    key = f"report-links/{request_id}"
    ttl = timedelta(hours=settings().link_token_ttl_hours)
    with database.transaction() as conn:
        owner = reckonings.by_id(conn, reckoning_id)
        if owner is None:
            return
        existing = reports.email_by_key(conn, key)
        if existing is not None and existing["status"] == "sent":
            return
        reports.insert_email(conn, reckoning_id, "report_links", key)
        links = [
            (
                f"Reckoning of {row['created_at']:%d %B %Y}",
                tokens.report_link(tokens.mint(conn, row["id"], "email_link", ttl)),
            )
            for row in reckonings.with_access_for_email(conn, owner["email"])
        ]
    if not links:
        return
    provider_id = mailer.send(compose_report_links(links), owner["email"], key)
    with database.transaction() as conn:
        reports.mark_email_sent(conn, key, provider_id)
    logger.info("report links sent", extra={"reckoning_id": str(reckoning_id), "links": len(links)})
