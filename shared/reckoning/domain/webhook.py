"""Stripe webhook events: verified, recorded once, applied with their effects in one transaction.

Every status change is a conditional update that only moves forward, so events
in any order and any number of repeats end in the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from reckoning import db, errors
from reckoning.db import outbox, payments, reckonings
from reckoning.db.connection import Connection
from reckoning.db.payments import Payment
from reckoning.dependencies import Dependencies
from reckoning.domain.services import relay
from reckoning.models.job import GenerateJob, wire
from reckoning.models.stripe import Charge, CheckoutSession, StripeEvent
from reckoning.observability import logger, metrics

type StripeObject = CheckoutSession | Charge


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # applied | ignored | flagged | unmatched | duplicate
    reckoning_id: UUID | None = None
    reason: str | None = None
    queued: dict[str, dict[str, Any]] | None = None  # outbox messages it committed, bodies by dedupe key


def receive(deps: Dependencies, payload: str, signature: str | None) -> Outcome:
    """One webhook delivery: verified, recorded once and applied in one transaction, then what it queued relayed.

    A delivery that is not Stripe's raises InvalidSignature or ValidationFailed (400: Stripe does not retry).
    Any other failure raises WebhookFailed (500), so that Stripe delivers the event again: nothing was
    committed, or what was is recorded and the repeat is a duplicate.
    """
    refuse_junk(payload, signature)
    try:
        deps.signatures.verify(payload, signature)
    except errors.ServiceUnavailable as exc:  # no secret to check with: Stripe must deliver again later
        raise _failed(exc) from exc
    event, obj = parse(payload)
    try:
        outcome = apply(deps.database, event, obj)
        if outcome.queued:  # after the commit; what SQS refuses, the sweeper sends
            relay.send_now(deps.database, deps.queue, outcome.queued)
    except Exception as exc:
        raise _failed(exc) from exc
    metrics.add_metric(name=f"StripeEvent_{outcome.kind}", unit="Count", value=1)
    return outcome


# Stripe's events are a few KiB; the function URL has no WAF in front of it (docs/decisions.md 42).
MAX_EVENT_BYTES = 64 * 1024


def refuse_junk(payload: str, signature: str | None) -> None:
    """What cannot be Stripe's is refused before the secret is read, the SDK imported or the database reached:
    junk requests must not hold the function's few reserved slots for long."""
    if not signature:
        raise errors.InvalidSignature("no Stripe-Signature header")
    size = len(payload.encode(errors="surrogatepass"))
    if size > MAX_EVENT_BYTES:
        raise errors.PayloadTooLarge(f"{size} bytes")


def _failed(cause: Exception) -> errors.WebhookFailed:
    logger.error("webhook not processed", extra={"error_class": type(cause).__name__})
    metrics.add_metric(name="WebhookFailed", unit="Count", value=1)
    return errors.WebhookFailed(type(cause).__name__)


def parse(payload: str) -> tuple[StripeEvent, StripeObject | None]:
    """The event and, for the types handled here, its object typed; a body that is neither is a 400."""
    try:
        event = StripeEvent.model_validate_json(payload)
        if event.type.startswith("checkout.session."):
            return event, event.session()
        return event, event.charge() if event.type == "charge.refunded" else None
    except ValidationError as exc:
        raise errors.ValidationFailed([errors.FieldError("body", "Not a Stripe event.")]) from exc


def apply(database: db.Database, event: StripeEvent, obj: StripeObject | None) -> Outcome:
    with database.transaction() as conn:
        if not payments.record_event(conn, event):
            return Outcome("duplicate")
        outcome = _handle(conn, event.type, obj)
        payments.finish_event(conn, event.id, outcome.kind, outcome.reckoning_id, outcome.reason)
    if outcome.kind == "flagged":  # money may have been taken where no report can follow: a person must look
        metrics.add_metric(name="PaymentFlagged", unit="Count", value=1)
    log = logger.warning if outcome.kind in {"flagged", "unmatched"} else logger.info
    log("stripe event", extra={"event_type": event.type, "outcome": outcome.kind, "reason": outcome.reason})
    return outcome


def _session_payment(conn: Connection, session: CheckoutSession) -> tuple[Payment | None, str | None]:
    """The payment recorded for this session, and why it must not be trusted (if it must not)."""
    payment = payments.by_session_for_update(conn, session.id)
    if payment is None:
        return None, "unknown checkout session"
    if session.claimed_reckoning_ids() - {str(payment.reckoning_id)}:
        return payment, "client_reference_id or metadata disagree with the recorded session"
    return payment, None


def _handle(conn: Connection, event_type: str, obj: StripeObject | None) -> Outcome:
    match obj:
        case CheckoutSession() if event_type in _SESSION_HANDLERS:
            return _on_session(conn, obj, _SESSION_HANDLERS[event_type])
        case Charge() if event_type == "charge.refunded":
            return _charge_refunded(conn, obj)
        case _:
            return Outcome("ignored")


def _on_session(
    conn: Connection, session: CheckoutSession, act: Callable[[Connection, Payment, CheckoutSession], Outcome]
) -> Outcome:
    payment, problem = _session_payment(conn, session)
    if payment is None:
        return Outcome("unmatched", None, problem)
    if problem:
        payments.flag(conn, payment.id, problem)
        return Outcome("flagged", payment.reckoning_id, problem)
    return act(conn, payment, session)


def _completed(conn: Connection, payment: Payment, session: CheckoutSession) -> Outcome:
    match session.payment_status:
        case "paid":
            return _paid(conn, payment, session)
        case "unpaid":  # a delayed method (e.g. bank debit): async_payment_succeeded follows
            payments.mark_processing(conn, payment.id, session.payment_intent)
            return Outcome("applied", payment.reckoning_id)
        case other:
            reason = f"unexpected payment_status {other!r}"
            payments.flag(conn, payment.id, reason)
            return Outcome("flagged", payment.reckoning_id, reason)


def _paid(conn: Connection, payment: Payment, session: CheckoutSession) -> Outcome:
    reckoning_id = payment.reckoning_id
    if session.amount_total != payment.amount or session.currency != payment.currency:
        reason = "amount or currency differ from the recorded session"
        payments.flag(conn, payment.id, reason)
        return Outcome("flagged", reckoning_id, reason)
    intent = session.payment_intent
    newly_paid = payments.mark_paid(conn, payment.id, intent)
    queued = None
    if newly_paid and reckonings.mark_paid(conn, reckoning_id):
        job, key = GenerateJob(reckoning_id=reckoning_id, reason="payment"), f"payment:{reckoning_id}"
        outbox.enqueue(conn, job, key)
        queued = {key: wire(job)}
    elif newly_paid:
        reason = "a second payment for a reckoning that was no longer awaiting payment; refund it"
        payments.flag(conn, payment.id, reason)
        return Outcome("flagged", reckoning_id, reason)
    if intent and payments.has_unmatched_refund(conn, intent):  # the refund arrived first
        _refund(conn, payment)
    return Outcome("applied", reckoning_id, queued=queued)


def _async_failed(conn: Connection, payment: Payment, session: CheckoutSession) -> Outcome:
    payments.mark_failed(conn, payment.id)
    return Outcome("applied", payment.reckoning_id)


def _expired(conn: Connection, payment: Payment, session: CheckoutSession) -> Outcome:
    payments.expire(conn, payment.id)
    return Outcome("applied", payment.reckoning_id)


def _charge_refunded(conn: Connection, charge: Charge) -> Outcome:
    if not charge.refunded:
        return Outcome("ignored", None, "partial refund")
    intent = charge.payment_intent
    payment = payments.by_intent_for_update(conn, intent) if intent else None
    if payment is None:  # kept as unmatched: applied when the payment's own event arrives
        return Outcome("unmatched", None, "no payment with this payment intent yet")
    return Outcome("applied", payment.reckoning_id, _refund(conn, payment))


def _refund(conn: Connection, payment: Payment) -> str | None:
    """The payment is refunded; the reckoning only once no payment for it still stands (refunding a duplicate
    payment leaves the person their report). Why the reckoning was left as it is, if it was."""
    payments.refund(conn, payment.id)
    if payments.still_paid(conn, payment.reckoning_id):
        return "a duplicate payment refunded; another payment for the reckoning stands"
    # The links stay: the report is withheld (GET shows `refunded`), but the person may still export and erase.
    reckonings.refund(conn, payment.reckoning_id)
    return None


_SESSION_HANDLERS: dict[str, Callable[[Connection, Payment, CheckoutSession], Outcome]] = {
    "checkout.session.completed": _completed,
    "checkout.session.async_payment_succeeded": _paid,
    "checkout.session.async_payment_failed": _async_failed,
    "checkout.session.expired": _expired,
}
