"""What the engineer on call can do: replay the DLQ, regenerate, resend a link, read a timeline, find a reckoning.

Timelines print ids, statuses, amounts and error classes only: never emails, names, answers or report text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import UUID

from pydantic import ValidationError

from reckoning import errors
from reckoning.db import lookups, outbox, reckonings, reports, timeline
from reckoning.dependencies import Dependencies
from reckoning.domain.services import emails, relay
from reckoning.models.job import GenerateJob, read_job
from reckoning.models.status import Status


def regenerate(deps: Dependencies, reckoning_id: UUID) -> None:
    """Withdraw the current report and queue a new generation (the next version replaces it)."""
    with deps.database.transaction() as conn:
        if not reckonings.reopen(conn, reckoning_id, "regenerate requested by an operator"):
            # A worker with a live lease would release its version and email it too: two versions, two emails.
            raise errors.Conflict(
                "only a paid, ready, failed or held reckoning can be regenerated, or a generating one whose"
                " worker's lease has run out (none is generating it now)"
            )
        reports.withdraw(conn, reckoning_id)
        job = GenerateJob(reckoning_id=reckoning_id, reason="retry")
        outbox.enqueue(conn, job, f"retry:{reckoning_id}:{time.time_ns()}")
    relay.drain(deps.database, deps.queue)


def resend_link(deps: Dependencies, reckoning_id: UUID) -> str:
    """Mint a fresh link to a ready report and email it again; returns the provider's message id."""
    with deps.database.transaction() as conn:
        reckoning = reckonings.by_id(conn, reckoning_id)
        report = reports.released(conn, reckoning_id)
    if reckoning is None or report is None or reckoning.status != Status.READY:
        raise errors.Conflict("the reckoning has no released report")
    key = f"report-ready/{reckoning_id}/resend/{time.time_ns()}"
    provider_id = emails.announce_report(deps, reckoning, report, key)
    if provider_id is None:
        raise errors.PermanentFailure("the email provider refused the email (see the log)")
    return provider_id


def timeline_of(deps: Dependencies, reckoning_id: UUID) -> list[timeline.Entry]:
    """Also of an erased reckoning: its story holds nothing personal."""
    with deps.database.transaction() as conn:
        entries = timeline.of(conn, reckoning_id)
    if not entries:  # every reckoning has at least its first status
        raise errors.NotFound("no such reckoning")
    return entries


STRIPE_PREFIXES = ("cs_", "pi_", "ch_")


def find_by_email(deps: Dependencies, email: str) -> list[lookups.Found]:
    """The reckonings of an address (erased ones have none left), oldest first."""
    with deps.database.connection() as conn:
        return lookups.by_email(conn, email.strip())


def find_by_stripe_id(deps: Dependencies, stripe_id: str) -> list[lookups.Found]:
    """The reckonings a Checkout session (`cs_…`), payment intent (`pi_…`) or charge (`ch_…`) belongs to.

    Charges are not stored (the ledger keeps the payment intent of each event): a charge id is asked of Stripe
    for its payment intent first (ServiceUnavailable when Stripe cannot be reached)."""
    stripe_id = stripe_id.strip()
    if not stripe_id.startswith(STRIPE_PREFIXES):
        raise errors.ValidationFailed([errors.FieldError("stripe", "Expected a cs_…, pi_… or ch_… id.")])
    if stripe_id.startswith("ch_"):
        intent = deps.checkout.payment_intent_of_charge(stripe_id)
        if intent is None:
            return []
        stripe_id = intent
    with deps.database.connection() as conn:
        return lookups.by_stripe_id(conn, stripe_id)


@dataclass(frozen=True, slots=True)
class Replayed:
    moved: int
    reopened: int


def replay_dead_letters(deps: Dependencies, limit: int = 100) -> Replayed:
    """Move messages from the dead-letter queue back to the report queue, reopening failed reckonings."""
    moved = reopened = 0
    while moved < limit:
        batch = deps.queue.dead_letters(min(10, limit - moved))
        if not batch:
            break
        for letter in batch:
            reopened += _reopen_failed(deps, letter.body)
            deps.queue.requeue_dead_letter(letter)
            moved += 1
    return Replayed(moved, reopened)


def _reopen_failed(deps: Dependencies, body: str) -> int:
    try:
        job = read_job(body)
    except ValidationError:
        return 0
    with deps.database.transaction() as conn:
        return int(reckonings.reopen(conn, job.reckoning_id, "replayed from the dead-letter queue", only_failed=True))
