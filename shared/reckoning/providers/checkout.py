"""Stripe Checkout sessions, and an offline stand-in for local runs without a key."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from reckoning import errors
from reckoning.config import secret, settings
from reckoning.observability import logger

if TYPE_CHECKING:
    from stripe import StripeClient
    from stripe._base_address import BaseAddresses
    from stripe.params.checkout._session_create_params import SessionCreateParamsLineItem

SESSION_TTL = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    url: str
    amount: int
    currency: str
    expires_at: datetime


class Checkout(Protocol):
    def create_session(self, *, reckoning_id: UUID, email: str, idempotency_key: str) -> CheckoutSession: ...


def _urls() -> tuple[str, str]:
    s = settings()
    return s.app_base_url + s.checkout_success_path, s.app_base_url + s.checkout_cancel_path


class StripeCheckout:
    def __init__(self, client: StripeClient) -> None:
        self._client = client

    def create_session(self, *, reckoning_id: UUID, email: str, idempotency_key: str) -> CheckoutSession:
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
        expires_at = datetime.now(UTC) + SESSION_TTL
        try:
            session = self._client.v1.checkout.sessions.create(
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
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise errors.ServiceUnavailable(type(exc).__name__) from exc
        except stripe.APIError as exc:
            raise errors.ServiceUnavailable(type(exc).__name__) from exc
        if session.url is None or session.amount_total is None or session.currency is None:
            raise errors.ServiceUnavailable("incomplete checkout session")
        return CheckoutSession(
            id=session.id,
            url=session.url,
            amount=session.amount_total,
            currency=session.currency,
            expires_at=datetime.fromtimestamp(session.expires_at, UTC),
        )


class OfflineCheckout:
    """Local stand-in: a checkout page on the local stack whose Pay button sends a signed webhook.

    The session's state travels in the URL, so the page needs no storage of its own.
    """

    def create_session(self, *, reckoning_id: UUID, email: str, idempotency_key: str) -> CheckoutSession:
        s = settings()
        session_id = "cs_test_local_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
        expires_at = datetime.now(UTC) + SESSION_TTL
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


@cache
def _stripe_client(api_key: str, api_base: str | None) -> StripeClient:
    from stripe import StripeClient

    base: BaseAddresses | None = {"api": api_base} if api_base else None
    return StripeClient(api_key, base_addresses=base, max_network_retries=1)


def checkout() -> Checkout:
    api_key = secret("STRIPE_SECRET_KEY")
    if api_key:
        return StripeCheckout(_stripe_client(api_key, settings().stripe_api_base))
    if not settings().offline:
        raise errors.ServiceUnavailable("STRIPE_SECRET_KEY is not configured")
    logger.info("STRIPE_SECRET_KEY not set: using the offline checkout stand-in")
    return OfflineCheckout()
