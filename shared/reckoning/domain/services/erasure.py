"""Erasure, by the person, by an operator, or by the retention purge (docs/privacy.md).

A reckoning's personal data goes; only its anonymous accounting record stays. First its open Stripe Checkout
sessions are expired, so that no one can pay for a reckoning that is gone (Stripe unreachable: nothing changes,
the person gets a 503 and the purge tries again next minute; a session Stripe says is complete was paid just
now: the erasure goes on, the payment's webhook is flagged and a person refunds it). Then three steps, each safe
to repeat: one transaction clears the reckoning's personal fields, marks it `erasing` and scrubs every other table
(`db.erasure.ERASED`), its tokens included, so its links are unknown from that commit on; then every stored object
under its prefix goes, every version; then it is `erased`. A crash or an S3 failure between the steps leaves it
`erasing`, and the sweeper's purge finishes it a minute later.

Work in flight cannot leave anything behind: a worker holds the reckoning (`reckonings.hold`) while it writes
about it, so an erasure waits for that commit and erases what it wrote, and whatever it tries after the erasure
is refused (`errors.Gone`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import UUID

from reckoning import db, errors
from reckoning.db import erasure, payments, reckonings
from reckoning.dependencies import Dependencies
from reckoning.domain.services import tokens
from reckoning.observability import logger, metrics

# Reckonings one purge takes on: a sweep stays well inside the sweeper's minute.
PURGE_BATCH = 100
# An erasure still unfinished this long after it was asked for is stuck (the erasure-stuck alarm).
STUCK_AFTER_S = 3600


@dataclass(frozen=True, slots=True)
class Erased:
    reckoning_id: UUID
    rows: int  # database rows cleared, scrubbed or deleted by this call
    objects: int  # stored objects (PDFs of every report version) deleted by this call
    finished: bool  # the reckoning became `erased` by this call


def erase_by_token(deps: Dependencies, token: str) -> None:
    """The person's erasure. Afterwards the token is as unknown as any other; objects S3 could not delete now
    are deleted by the sweeper."""
    with deps.database.transaction() as conn:
        reckoning_id = tokens.reckoning_for(conn, token).id
    # Outside any transaction (no connection is held across Stripe calls), within the request's Stripe budget.
    close_checkout(deps, reckoning_id, time.monotonic() + deps.policy.stripe_budget_s)
    with deps.database.transaction() as conn:
        if not _scrub(conn, reckoning_id, "erased at the person's request"):
            raise errors.NotFound("erased meanwhile")  # a concurrent erasure got there first
    try:
        _finish(deps, reckoning_id)
    except errors.TransientFailure as exc:
        logger.warning(
            "stored objects left for the sweeper", extra={"reckoning_id": str(reckoning_id), "cause": str(exc)}
        )


def erase(deps: Dependencies, reckoning_id: UUID, reason: str) -> Erased:
    """Erase one reckoning, or finish its erasure; raises TransientFailure when S3 fails (it stays `erasing`),
    ServiceUnavailable when Stripe cannot expire an open session (nothing changed)."""
    close_checkout(deps, reckoning_id)
    with deps.database.transaction() as conn:
        rows = _scrub(conn, reckoning_id, reason)
    objects, finished = _finish(deps, reckoning_id)
    return Erased(reckoning_id, rows, objects, finished)


def erase_address(deps: Dependencies, email: str) -> list[Erased]:
    """An operator's erasure of every reckoning of an address."""
    with deps.database.transaction() as conn:
        found = reckonings.ids_of_address(conn, email.strip())
    return [erase(deps, reckoning_id, "erased at an operator's request") for reckoning_id in found]


def purge(deps: Dependencies, limit: int = PURGE_BATCH) -> int:
    """The retention purge: erasures left halfway, then reckonings kept past their retention; how many it erased."""
    policy = deps.policy
    with deps.database.transaction() as conn:
        due = reckonings.due_for_erasure(conn, policy.unpaid_retention_days, policy.retention_days, limit)
    erased = failed = 0
    for reckoning_id in due:
        try:
            erased += erase(deps, reckoning_id, "retention period over").finished
        except errors.ReckoningError as exc:  # S3 or Stripe: this one waits for the next minute; the others go on
            failed += 1
            logger.warning(
                "retention purge could not erase a reckoning",
                extra={"reckoning_id": str(reckoning_id), "cause": str(exc)},
            )
    if failed:
        metrics.add_metric(name="PurgeFailures", unit="Count", value=failed)
    with deps.database.connection() as conn:
        stuck = reckonings.stuck_erasures(conn, STUCK_AFTER_S)
    metrics.add_metric(name="ErasureStuck", unit="Count", value=stuck)
    if erased:
        metrics.add_metric(name="ReckoningsPurged", unit="Count", value=erased)
        logger.info("retention purge", extra={"erased": erased})
    return erased


def close_checkout(deps: Dependencies, reckoning_id: UUID, deadline: float | None = None) -> None:
    """Expire every Checkout session of the reckoning that may still be paid (Stripe's errors pass through)."""
    with deps.database.connection() as conn:
        still_open = payments.open_of(conn, reckoning_id)
    for payment in still_open:
        if deps.checkout.expire_session(payment.checkout_session_id, deadline) == "expired":
            with deps.database.transaction() as conn:
                payments.expire(conn, payment.id)
        else:
            logger.warning(
                "checkout session completed as its reckoning is erased: its payment will be flagged, and a person"
                " must refund it",
                extra={"reckoning_id": str(reckoning_id), "checkout_session_id": payment.checkout_session_id},
            )
            metrics.add_metric(name="ErasedWhilePaid", unit="Count", value=1)


def _scrub(conn: db.Connection, reckoning_id: UUID, reason: str) -> int:
    if not reckonings.begin_erasure(conn, reckoning_id, reason):
        return 0
    return 1 + erasure.scrub(conn, reckoning_id)


def _finish(deps: Dependencies, reckoning_id: UUID) -> tuple[int, bool]:
    objects = deps.store.delete_reckoning(reckoning_id)
    with deps.database.transaction() as conn:
        return objects, reckonings.finish_erasure(conn, reckoning_id)
