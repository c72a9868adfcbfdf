"""Starting a payment: one open Stripe Checkout session per reckoning at a time.

Sessions are asked for in 30-minute slots counted from the reckoning's creation. Every call within a slot
sends Stripe the same idempotency key and the same parameters — `expires_at` is the slot's start plus 90
minutes — so a retry after a lost answer (a timeout, a failed insert) gets the first session back. A call
in a later slot uses a new key rather than new parameters under the old one, which Stripe would refuse
for 24 hours. A new session has 60 to 90 minutes left: inside Stripe's 30 minutes to 24 hours, with room
for clock skew.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from reckoning import errors
from reckoning.db import payments
from reckoning.db.payments import NewPayment, Payment
from reckoning.dependencies import Dependencies
from reckoning.domain.services import idempotency, tokens
from reckoning.models.api import CheckoutRequest, CheckoutResult
from reckoning.models.status import PaymentStatus, Status
from reckoning.observability import logger

SLOT = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(minutes=90)
# A session this close to expiry is not handed out again: the person needs time to pay.
_MIN_REMAINING = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Slot:
    index: int
    starts_at: datetime

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + SLOT

    @property
    def expires_at(self) -> datetime:
        """The `expires_at` every session asked for in this slot carries."""
        return self.starts_at + SESSION_LIFETIME


def slot_at(created_at: datetime, now: datetime) -> Slot:
    """The slot `now` falls in, counted from the reckoning's creation (never before it)."""
    index = max(0, (now - created_at) // SLOT)
    return Slot(index, created_at + index * SLOT)


def checkout(
    deps: Dependencies, request: CheckoutRequest, keyed: idempotency.Request | None = None
) -> idempotency.Answer[CheckoutResult]:
    """`start_checkout`, once per idempotency key: the same request again gets the first answer."""
    return idempotency.once(
        deps.database, keyed, CheckoutResult, lambda done: start_checkout(deps, request.token, done=done)
    )


def start_checkout(
    deps: Dependencies,
    token: str,
    now: datetime | None = None,
    done: idempotency.Done = idempotency.nothing,
) -> CheckoutResult:
    """The reckoning's open session, or a new one; `done` completes an idempotency key with the answer in the
    transaction that records the session (or a transaction of its own when an open one is handed out again)."""
    deadline = time.monotonic() + deps.policy.stripe_budget_s  # one for every Stripe call of this request
    now = now or datetime.now(UTC)
    database, provider = deps.database, deps.checkout
    with database.transaction() as conn:
        reckoning = tokens.reckoning_for(conn, token)
        if reckoning.status != Status.AWAITING_PAYMENT:
            raise errors.Conflict(f"reckoning is {reckoning.status}")
        latest = payments.latest(conn, reckoning.id)
        if latest is not None and _reusable(latest, now):
            result = _result(latest)
            done(conn, reckoning.id, result)
            return result
    if latest is not None and latest.status == PaymentStatus.OPEN:
        _expire(deps, latest, deadline)
    generation = 1 if latest is None else latest.generation + 1
    slot = slot_at(reckoning.created_at, now)
    log = {"reckoning_id": str(reckoning.id), "generation": generation, "slot": slot.index}
    try:
        # Outside any transaction: no database connection is held across the Stripe call.
        session = provider.create_session(
            reckoning_id=reckoning.id,
            email=reckoning.email,
            idempotency_key=f"checkout:{reckoning.id}:{generation}:{slot.index}",
            expires_at=slot.expires_at,
            deadline=deadline,
        )
    except errors.IdempotencyKeySpent as exc:
        # Our bug (parameters that changed within a slot, e.g. a price deployed mid-slot) or a failure Stripe
        # replays: only the next slot's key can succeed, so say when that is.
        logger.error("checkout key spent at Stripe", extra={**log, "cause": str(exc)})
        retry_after = max(1, math.ceil((slot.ends_at - now).total_seconds()))
        raise errors.ServiceUnavailable(str(exc), retry_after=retry_after) from None
    new = NewPayment(
        reckoning_id=reckoning.id,
        generation=generation,
        checkout_session_id=session.id,
        checkout_url=session.url,
        amount=session.amount,
        currency=session.currency,
        expires_at=session.expires_at,
    )
    with database.transaction() as conn:
        payment = payments.insert(conn, new)
        result = _result(payment)
        done(conn, reckoning.id, result)
    logger.info("checkout session recorded", extra=log)
    return result


def _reusable(payment: Payment, now: datetime) -> bool:
    if payment.status in {PaymentStatus.PAID, PaymentStatus.PROCESSING}:
        raise errors.Conflict(f"payment is {payment.status}")
    return payment.status == PaymentStatus.OPEN and payment.expires_at - now > _MIN_REMAINING


def _expire(deps: Dependencies, payment: Payment, deadline: float) -> None:
    """A new session only once the previous one can no longer be paid: else a person could pay both."""
    if deps.checkout.expire_session(payment.checkout_session_id, deadline) == "complete":
        # Paid (or being paid) just now: its webhook marks the reckoning paid; no second session.
        raise errors.Conflict("the previous checkout session was completed")
    with deps.database.transaction() as conn:
        payments.expire(conn, payment.id)


def _result(payment: Payment) -> CheckoutResult:
    if payment.checkout_url is None:  # erased: unreachable through a live token, whatever the race
        raise errors.Gone("the checkout session was erased")
    return CheckoutResult(
        checkout_url=payment.checkout_url,
        session_id=payment.checkout_session_id,
        amount=payment.amount,
        currency=payment.currency,
    )
