"""Starting a payment: one open Stripe Checkout session per reckoning at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from reckoning import db, errors
from reckoning.db import payments, reckonings
from reckoning.domain import tokens
from reckoning.models.api import CheckoutResult
from reckoning.observability import logger
from reckoning.providers.checkout import Checkout

# A session this close to expiry is not handed out again: the person needs time to pay.
_MIN_REMAINING = timedelta(minutes=5)


def start_checkout(database: db.Database, provider: Checkout, token: str) -> CheckoutResult:
    token_hash = tokens.token_hash_or_not_found(token)
    with database.transaction() as conn:
        reckoning = reckonings.by_token(conn, token_hash)
        if reckoning is None:
            raise errors.NotFound("unknown token")
        if reckoning["status"] != "awaiting_payment":
            raise errors.Conflict(f"reckoning is {reckoning['status']}")
        latest = payments.latest(conn, reckoning["id"])
    if latest is not None and _reusable(latest):
        return _result(latest)
    generation = 1 if latest is None else latest["generation"] + 1
    reckoning_id = UUID(str(reckoning["id"]))
    # Outside any transaction: no database connection is held across the Stripe call.
    session = provider.create_session(
        reckoning_id=reckoning_id,
        email=reckoning["email"],
        idempotency_key=f"checkout:{reckoning_id}:{generation}",
    )
    with database.transaction() as conn:
        row = payments.insert(
            conn,
            reckoning_id=reckoning_id,
            generation=generation,
            session_id=session.id,
            url=session.url,
            amount=session.amount,
            currency=session.currency,
            expires_at=session.expires_at,
        )
    logger.info("checkout session recorded", extra={"reckoning_id": str(reckoning_id), "generation": generation})
    return _result(row)


def _reusable(payment: payments.Row) -> bool:
    if payment["status"] in {"paid", "processing"}:
        raise errors.Conflict(f"payment is {payment['status']}")
    open_long_enough: bool = payment["expires_at"] - datetime.now(UTC) > _MIN_REMAINING
    return payment["status"] == "open" and open_long_enough


def _result(payment: payments.Row) -> CheckoutResult:
    return CheckoutResult(
        checkout_url=payment["checkout_url"],
        session_id=payment["checkout_session_id"],
        amount=payment["amount"],
        currency=payment["currency"],
    )
