"""Stripe Checkout sessions, and an offline stand-in for local runs without a key.

Every Stripe answer is handled: the person's address refused → ValidationFailed on `email`; Stripe down,
slow or rate limiting → ServiceUnavailable (503 + Retry-After); the idempotency key spent →
IdempotencyKeySpent; anything else → PermanentFailure (500). No message from Stripe is kept: it can quote
the request, and so the person's email address.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, NoReturn
from uuid import UUID

from reckoning import errors
from reckoning.config import settings
from reckoning.ports import CheckoutSession, Closed

if TYPE_CHECKING:
    from stripe import StripeClient, StripeError
    from stripe._base_address import BaseAddresses
    from stripe.params.checkout._session_create_params import SessionCreateParamsLineItem

# Stripe outages and rate limits are short: a browser may try again soon.
RETRY_AFTER_S = 5
EMAIL_REFUSED = "The payment provider does not accept this email address. Please submit again with another address."


def _urls() -> tuple[str, str]:
    s = settings()
    return s.app_base_url + s.checkout_success_path, s.app_base_url + s.checkout_cancel_path


class StripeCheckout:
    """`client` is asked for on each call: the key is read when first needed, and cached with its client."""

    def __init__(self, client: Callable[[], StripeClient]) -> None:
        self._client = client

    def create_session(
        self, *, reckoning_id: UUID, email: str, idempotency_key: str, expires_at: datetime
    ) -> CheckoutSession:
        import stripe

        s = settings()
        success_url, cancel_url = _urls()
        line_item: SessionCreateParamsLineItem = (
            {"price": s.stripe_price_id, "quantity": 1}
            if s.stripe_price_id
            else {
                "price_data": {
                    "currency": s.price_currency,
                    "unit_amount": s.price_amount,
                    "product_data": {"name": s.product_name},
                },
                "quantity": 1,
            }
        )
        try:
            session = self._client().v1.checkout.sessions.create(
                {
                    "mode": "payment",
                    "line_items": [line_item],
                    "customer_email": email,
                    "client_reference_id": str(reckoning_id),
                    "metadata": {"reckoning_id": str(reckoning_id)},
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                    "expires_at": int(expires_at.timestamp()),
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            _refused(exc)
        if session.url is None or session.amount_total is None or session.currency is None:
            raise errors.ServiceUnavailable("incomplete checkout session", retry_after=RETRY_AFTER_S)
        return CheckoutSession(
            id=session.id,
            url=session.url,
            amount=session.amount_total,
            currency=session.currency,
            expires_at=datetime.fromtimestamp(session.expires_at, UTC),
        )

    def expire_session(self, session_id: str) -> Closed:
        import stripe

        sessions = self._client().v1.checkout.sessions
        try:
            status = sessions.expire(session_id).status
        except stripe.InvalidRequestError:
            # Only an open session can be expired (400 otherwise): ask what it is now.
            try:
                status = sessions.retrieve(session_id).status
            except stripe.StripeError as exc:
                _refused(exc)
        except stripe.StripeError as exc:
            _refused(exc)
        if status not in ("expired", "complete"):
            raise errors.ServiceUnavailable(f"checkout session still {status}", retry_after=RETRY_AFTER_S)
        return "expired" if status == "expired" else "complete"

    def payment_intent_of_charge(self, charge_id: str) -> str | None:
        import stripe

        try:
            intent = self._client().v1.charges.retrieve(charge_id).payment_intent
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            _refused(exc)
        except stripe.StripeError as exc:
            _refused(exc)
        return intent if isinstance(intent, str) or intent is None else intent.id


def _refused(exc: StripeError) -> NoReturn:
    """Turn a Stripe error into ours, keeping only its kind: `from None` drops Stripe's message."""
    import stripe

    cause = f"Stripe {exc.http_status} {type(exc).__name__} code={exc.code}"
    if isinstance(exc, stripe.InvalidRequestError) and exc.param == "customer_email":
        raise errors.ValidationFailed([errors.FieldError("email", EMAIL_REFUSED)]) from None
    if isinstance(exc, stripe.IdempotencyError) or _replayed(exc):
        raise errors.IdempotencyKeySpent(cause) from None
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError):
        # Unreachable, timed out (after the SDK's own retry), rate limited, or a 5xx.
        raise errors.ServiceUnavailable(cause, retry_after=RETRY_AFTER_S) from None
    if isinstance(exc, stripe.InvalidRequestError):
        cause += f" param={exc.param}"
    raise errors.PermanentFailure(cause, kind="stripe") from None


def _replayed(exc: StripeError) -> bool:
    """Stripe saved a failure (a 500) under this key and answers it again for every retry with that key."""
    return exc.http_status is not None and exc.http_status >= 500 and _header(exc, "idempotent-replayed") == "true"


def _header(exc: StripeError, name: str) -> str | None:
    return next((str(value) for key, value in (exc.headers or {}).items() if key.lower() == name), None)


class OfflineCheckout:
    """Local stand-in: a checkout page on the local stack whose Pay button sends a signed webhook.

    The session's state travels in the URL, so the page needs no storage of its own.
    """

    def create_session(
        self, *, reckoning_id: UUID, email: str, idempotency_key: str, expires_at: datetime
    ) -> CheckoutSession:
        s = settings()
        session_id = "cs_test_local_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
        success_url, cancel_url = _urls()
        state = {
            "id": session_id,
            "amount_total": s.price_amount,
            "currency": s.price_currency,
            "client_reference_id": str(reckoning_id),
            "metadata": {"reckoning_id": str(reckoning_id)},
            "customer_email": email,
            "expires_at": int(expires_at.timestamp()),
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        encoded = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
        url = f"{s.app_base_url}/_local/checkout/{session_id}?state={encoded}"
        return CheckoutSession(session_id, url, s.price_amount, s.price_currency, expires_at)

    def expire_session(self, session_id: str) -> Closed:
        return "expired"  # the page keeps no state: nothing to expire

    def payment_intent_of_charge(self, charge_id: str) -> str | None:
        return None  # the local page takes no money: there are no charges


@cache  # one client (and connection pool) per container; a rotated key gets a new one
def stripe_client(api_key: str, api_base: str | None, timeout_s: float, max_retries: int) -> StripeClient:
    from stripe import RequestsClient, StripeClient

    # The SDK logs each Stripe error message at INFO, and a message can quote the request (an email address).
    logging.getLogger("stripe").setLevel(logging.WARNING)
    base: BaseAddresses | None = {"api": api_base} if api_base else None
    return StripeClient(
        api_key,
        base_addresses=base,
        max_network_retries=max_retries,
        http_client=RequestsClient(timeout=timeout_s),
    )
