"""Stripe webhook events: verified, recorded once, applied with their effects in one transaction.

Every status change is a conditional update that only moves forward, so events
in any order and any number of repeats end in the same state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from reckoning import db, errors
from reckoning.config import secret, settings
from reckoning.db import outbox, payments, reckonings, tokens
from reckoning.db.connection import Connection
from reckoning.db.payments import Payment
from reckoning.domain import outbox as relay
from reckoning.models.job import GenerateJob
from reckoning.models.status import PaymentStatus
from reckoning.models.stripe import StripeEvent, intent_id
from reckoning.observability import logger, metrics
from reckoning.providers.queue import Queue

# A payment that has not settled yet: still open, or waiting for a delayed method's money.
_UNSETTLED = (PaymentStatus.OPEN, PaymentStatus.PROCESSING)


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # applied | ignored | flagged | unmatched | duplicate
    reckoning_id: UUID | None = None
    reason: str | None = None
    queued: dict[str, dict[str, Any]] | None = None  # outbox messages it committed, bodies by dedupe key


def receive(database: db.Database, queue: Queue, payload: str, signature: str | None) -> Outcome:
    """One webhook delivery: verified, recorded once and applied in one transaction, then what it queued relayed.

    A delivery that is not Stripe's raises InvalidSignature or ValidationFailed (400: Stripe does not retry).
    Any other failure raises WebhookFailed (500), so that Stripe delivers the event again: nothing was
    committed, or what was is recorded and the repeat is a duplicate.
    """
    webhook_secret = secret("STRIPE_WEBHOOK_SECRET")
    if not webhook_secret:
        raise _failed(errors.ServiceUnavailable("STRIPE_WEBHOOK_SECRET is not configured"))
    verify(payload, signature, webhook_secret, settings().webhook_tolerance_s)
    event = parse(payload)
    try:
        outcome = apply(database, event)
        if outcome.queued:  # after the commit; what SQS refuses, the sweeper sends
            relay.send_now(database, queue, outcome.queued)
    except Exception as exc:
        raise _failed(exc) from exc
    metrics.add_metric(name=f"StripeEvent_{outcome.kind}", unit="Count", value=1)
    return outcome


def _failed(cause: Exception) -> errors.WebhookFailed:
    logger.error("webhook not processed", extra={"error_class": type(cause).__name__})
    metrics.add_metric(name="WebhookFailed", unit="Count", value=1)
    return errors.WebhookFailed(type(cause).__name__)


def verify(payload: str, header: str | None, secret: str, tolerance_s: int, now: float | None = None) -> None:
    """Stripe's own verifier (HMAC-SHA256 over "{t}.{body}", at most `tolerance_s` old), and no
    timestamps further in the future than the same tolerance, which the SDK does not check."""
    import stripe

    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance_s)
    except stripe.SignatureVerificationError as exc:
        raise errors.InvalidSignature(str(exc)) from exc
    timestamp = int(next(part[2:] for part in (header or "").split(",") if part.startswith("t=")))
    if timestamp > (now if now is not None else time.time()) + tolerance_s:
        raise errors.InvalidSignature("timestamp in the future")


def parse(payload: str) -> StripeEvent:
    try:
        return StripeEvent.model_validate_json(payload)
    except ValidationError as exc:
        raise errors.ValidationFailed([errors.FieldError("body", "Not a Stripe event.")]) from exc


def apply(database: db.Database, event: StripeEvent) -> Outcome:
    with database.transaction() as conn:
        if not payments.record_event(conn, event):
            return Outcome("duplicate")
        handler = _HANDLERS.get(event.type)
        outcome = handler(conn, event.data.object) if handler else Outcome("ignored")
        payments.finish_event(conn, event.id, outcome.kind, outcome.reckoning_id, outcome.reason)
    log = logger.warning if outcome.kind in {"flagged", "unmatched"} else logger.info
    log("stripe event", extra={"event_type": event.type, "outcome": outcome.kind, "reason": outcome.reason})
    return outcome


def _session_payment(conn: Connection, session: dict[str, Any]) -> tuple[Payment | None, str | None]:
    """The payment recorded for this session, and why it must not be trusted (if it must not)."""
    payment = payments.by_session_for_update(conn, str(session.get("id")))
    if payment is None:
        return None, "unknown checkout session"
    expected = str(payment.reckoning_id)
    claimed = {session.get("client_reference_id"), (session.get("metadata") or {}).get("reckoning_id")} - {None}
    if claimed - {expected}:
        return payment, "client_reference_id or metadata disagree with the recorded session"
    return payment, None


def _on_session(
    act: Callable[[Connection, Payment, dict[str, Any]], Outcome],
) -> Callable[[Connection, dict[str, Any]], Outcome]:
    def handle(conn: Connection, session: dict[str, Any]) -> Outcome:
        payment, problem = _session_payment(conn, session)
        if payment is None:
            return Outcome("unmatched", None, problem)
        if problem:
            payments.flag(conn, payment.id, problem)
            return Outcome("flagged", payment.reckoning_id, problem)
        return act(conn, payment, session)

    return handle


def _completed(conn: Connection, payment: Payment, session: dict[str, Any]) -> Outcome:
    match session.get("payment_status"):
        case "paid":
            return _paid(conn, payment, session)
        case "unpaid":  # a delayed method (e.g. bank debit): async_payment_succeeded follows
            payments.set_status(conn, payment.id, PaymentStatus.PROCESSING, [PaymentStatus.OPEN], intent_id(session))
            return Outcome("applied", payment.reckoning_id)
        case other:
            reason = f"unexpected payment_status {other!r}"
            payments.flag(conn, payment.id, reason)
            return Outcome("flagged", payment.reckoning_id, reason)


def _paid(conn: Connection, payment: Payment, session: dict[str, Any]) -> Outcome:
    reckoning_id = payment.reckoning_id
    if session.get("amount_total") != payment.amount or session.get("currency") != payment.currency:
        reason = "amount or currency differ from the recorded session"
        payments.flag(conn, payment.id, reason)
        return Outcome("flagged", reckoning_id, reason)
    intent = intent_id(session)
    newly_paid = payments.set_status(conn, payment.id, PaymentStatus.PAID, _UNSETTLED, intent)
    queued = None
    if newly_paid and reckonings.mark_paid(conn, reckoning_id):
        job, key = GenerateJob(reckoning_id=reckoning_id, reason="payment"), f"payment:{reckoning_id}"
        outbox.enqueue(conn, job, key)
        queued = {key: job.model_dump(mode="json", by_alias=True)}
    elif newly_paid:
        reason = "a second payment for a reckoning that was no longer awaiting payment; refund it"
        payments.flag(conn, payment.id, reason)
        return Outcome("flagged", reckoning_id, reason)
    if intent and payments.has_unmatched_refund(conn, intent):  # the refund arrived first
        _refund(conn, payment)
    return Outcome("applied", reckoning_id, queued=queued)


def _async_failed(conn: Connection, payment: Payment, session: dict[str, Any]) -> Outcome:
    payments.set_status(conn, payment.id, PaymentStatus.FAILED, _UNSETTLED)
    return Outcome("applied", payment.reckoning_id)


def _expired(conn: Connection, payment: Payment, session: dict[str, Any]) -> Outcome:
    payments.set_status(conn, payment.id, PaymentStatus.EXPIRED, [PaymentStatus.OPEN])
    return Outcome("applied", payment.reckoning_id)


def _charge_refunded(conn: Connection, charge: dict[str, Any]) -> Outcome:
    if not charge.get("refunded"):
        return Outcome("ignored", None, "partial refund")
    intent = intent_id(charge)
    payment = payments.by_intent_for_update(conn, intent) if intent else None
    if payment is None:  # kept as unmatched: applied when the payment's own event arrives
        return Outcome("unmatched", None, "no payment with this payment intent yet")
    return Outcome("applied", payment.reckoning_id, _refund(conn, payment))


def _refund(conn: Connection, payment: Payment) -> str | None:
    """The payment is refunded; the reckoning only once no payment for it still stands (refunding a duplicate
    payment leaves the person their report). Why the reckoning was left as it is, if it was."""
    payments.set_status(conn, payment.id, PaymentStatus.REFUNDED, [*_UNSETTLED, PaymentStatus.PAID])
    if payments.still_paid(conn, payment.reckoning_id):
        return "a duplicate payment refunded; another payment for the reckoning stands"
    if reckonings.refund(conn, payment.reckoning_id):
        tokens.revoke(conn, payment.reckoning_id)
    return None


_HANDLERS: dict[str, Callable[[Connection, dict[str, Any]], Outcome]] = {
    "checkout.session.completed": _on_session(_completed),
    "checkout.session.async_payment_succeeded": _on_session(_paid),
    "checkout.session.async_payment_failed": _on_session(_async_failed),
    "checkout.session.expired": _on_session(_expired),
    "charge.refunded": _charge_refunded,
}
