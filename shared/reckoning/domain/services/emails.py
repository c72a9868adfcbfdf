"""Email exactly once per idempotency key, with one failure behaviour for every email we send.

The `emails` row of a key is what keeps an email from going out twice: once it is `sent` (or refused for
good, `failed`) the key sends nothing again. A failure worth retrying (Resend down, rate limited) propagates,
leaving the row pending, and the next try sends under the same key (Resend answers a repeat with the first
message's id). A refusal for good (quota, a bad address) is recorded, counted and logged, and the caller
carries on: a report stays released whether or not its email went out, and on-call can resend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from reckoning import db, errors
from reckoning.db import emails, reckonings
from reckoning.db.reckonings import Reckoning
from reckoning.db.reports import StoredReport
from reckoning.dependencies import Dependencies
from reckoning.domain.services import tokens
from reckoning.domain.services.letters import compose_report_ready
from reckoning.observability import logger, metrics
from reckoning.ports import Mailer, OutgoingEmail


@dataclass(frozen=True, slots=True)
class Letter:
    to: str
    email: OutgoingEmail


def send_once(
    database: db.Database,
    mailer: Mailer,
    key: str,
    kind: emails.Kind,
    reckoning_id: UUID,
    compose: Callable[[db.Connection], Letter | None],
) -> str | None:
    """Send what `compose` writes (inside the transaction that records the key, e.g. minting tokens), unless
    this key was sent or refused before. The provider's message id; None when nothing was sent now."""
    with database.transaction() as conn:
        if emails.status(conn, key) in {"sent", "failed"}:
            return None
        letter = compose(conn)
        if letter is None:
            return None
        emails.insert(conn, reckoning_id, kind, key)
    try:
        provider_id = mailer.send(letter.email, letter.to, key)
    except errors.PermanentFailure as exc:
        with database.transaction() as conn:
            emails.mark_failed(conn, key, exc.kind)
        metrics.add_metric(name="EmailFailed", unit="Count", value=1)
        logger.error(
            "email refused for good", extra={"reckoning_id": str(reckoning_id), "kind": kind, "error": exc.kind}
        )
        return None
    with database.transaction() as conn:
        emails.mark_sent(conn, key, provider_id)
    return provider_id


def announce_report(
    deps: Dependencies,
    reckoning: Reckoning,
    report: StoredReport,
    key: str,
    check: Callable[[db.Connection], None] = lambda conn: None,
) -> str | None:
    """Email a fresh link to the released report, once per `key`. `check` runs first, in the transaction that
    mints the link: raising there (the worker's claim is gone, e.g. refunded) mints and sends nothing."""

    def letter(conn: db.Connection) -> Letter:
        if not reckonings.hold(conn, reckoning.id):
            raise errors.Gone("erased before its email")
        check(conn)
        token = tokens.mint(conn, reckoning.id, "email_link", deps.policy.report_token_ttl)
        link = deps.policy.link_to_report(token)
        return Letter(reckoning.email, compose_report_ready(reckoning.name, link, report.report.title))

    return send_once(deps.database, deps.mailer, key, "report_ready", reckoning.id, letter)
