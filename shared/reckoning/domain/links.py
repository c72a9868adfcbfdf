"""Lost-link recovery: fresh report links by email, without revealing whether an address is known.

The request only records a job (outbox → report queue); the worker mints the
links and sends one email. Whatever the address, the caller sees the same 202.
"""

from __future__ import annotations

import time

from reckoning import db
from reckoning.db import outbox, rate_limits, reckonings
from reckoning.dependencies import Dependencies
from reckoning.domain.services import tokens
from reckoning.domain.services.digests import digest
from reckoning.domain.services.emails import Letter, send_once
from reckoning.domain.services.letters import compose_report_links
from reckoning.models.job import LinksJob
from reckoning.observability import logger

# One links email per address per window, however often it is asked for.
_WINDOW_S = 600


def request_links(deps: Dependencies, email: str) -> bool:
    """Queue a links email when the address has paid reckonings; True when a job was queued.

    One transaction with the same statements for any address: it always counts the request against the
    address's own (silent) limit, and a known address adds one row to it, not a round trip or a commit.
    """
    address = digest(deps.keys, email.strip().lower())  # keys and counters name the address by its digest only
    key = f"links:{address}:{int(time.time()) // _WINDOW_S}"
    policy = deps.policy
    with deps.database.transaction() as conn:
        requests, _ = rate_limits.hit(conn, f"links-email|{address}", policy.rate_limit_window_s)
        if requests > policy.rate_limit_links:
            return False
        return outbox.enqueue_links_for_address(conn, email.strip(), key, key)


def send_links(deps: Dependencies, job: LinksJob) -> None:
    """Mint fresh, expiring links for every paid reckoning of the job's address, and email them once."""
    policy = deps.policy
    ttl = policy.link_token_ttl

    def letter(conn: db.Connection) -> Letter | None:
        owner = reckonings.by_id(conn, job.reckoning_id)
        found = reckonings.of_address(conn, owner.email) if owner else []
        links = [
            (f"Reckoning of {r.created_at:%d %B %Y}", policy.link_to_report(tokens.mint(conn, r.id, "email_link", ttl)))
            for r in found
            if reckonings.hold(conn, r.id)  # one being erased meanwhile gets no link
        ]
        return Letter(owner.email, compose_report_links(links)) if owner and links else None

    if send_once(
        deps.database, deps.mailer, f"report-links/{job.request_id}", "report_links", job.reckoning_id, letter
    ):
        logger.info("report links sent", extra={"reckoning_id": str(job.reckoning_id)})
