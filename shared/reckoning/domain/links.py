"""Lost-link recovery: fresh report links by email, without revealing whether an address is known.

The request only records a job (outbox → report queue); the worker mints the
links and sends one email. Whatever the address, the caller sees the same 202.
"""

from __future__ import annotations

import time
from datetime import timedelta
from uuid import UUID

from reckoning import db
from reckoning.config import settings
from reckoning.db import outbox, rate_limits, reckonings
from reckoning.domain import rate_limit, tokens
from reckoning.domain.digests import digest
from reckoning.domain.emails import Letter, send_once
from reckoning.models.job import LinksJob
from reckoning.observability import logger
from reckoning.providers.email import Mailer, compose_report_links

# One links email per address per window, however often it is asked for.
_WINDOW_S = 600


def request_links(database: db.Database, email: str) -> bool:
    """Queue a links email when the address has paid reckonings; True when a job was queued.

    One transaction with the same statements for any address: it always counts the request against the
    address's own (silent) limit, and a known address adds one row to it, not a round trip or a commit.
    """
    address = digest(email.strip().lower())  # keys and counters name the address by its keyed digest only
    key = f"links:{address}:{int(time.time()) // _WINDOW_S}"
    s = settings()
    with database.transaction() as conn:
        requests, _ = rate_limits.hit(conn, rate_limit.bucket("links-email", address), s.rate_limit_window_s)
        if requests > s.rate_limit_links:
            return False
        job = LinksJob(reckoning_id=UUID(int=0), request_id=key)  # the statement puts the reckoning's id in
        return outbox.enqueue_for_address(conn, email.strip(), job, key)


def send_links(database: db.Database, job: LinksJob, mailer: Mailer) -> None:
    """Mint fresh, expiring links for every paid reckoning of the job's address, and email them once."""
    ttl = timedelta(hours=settings().link_token_ttl_hours)

    def letter(conn: db.Connection) -> Letter | None:
        owner = reckonings.by_id(conn, job.reckoning_id)
        found = reckonings.of_address(conn, owner.email) if owner else []
        links = [
            (f"Reckoning of {r.created_at:%d %B %Y}", tokens.report_link(tokens.mint(conn, r.id, "email_link", ttl)))
            for r in found
            if reckonings.hold(conn, r.id)  # one being erased meanwhile gets no link
        ]
        return Letter(owner.email, compose_report_links(links)) if owner and links else None

    if send_once(database, mailer, f"report-links/{job.request_id}", "report_links", job.reckoning_id, letter):
        logger.info("report links sent", extra={"reckoning_id": str(job.reckoning_id)})
