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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, NoReturn
from uuid import UUID

from reckoning import errors
from reckoning.config import settings
from reckoning.observability import TRACE
from reckoning.ports import CheckoutSession, Closed

if TYPE_CHECKING:
    from stripe import StripeClient, StripeError
    from stripe._base_address import BaseAddresses
    from stripe.params.checkout._session_create_params import SessionCreateParamsLineItem

# Stripe outages and rate limits are short: a browser may try again soon.
RETRY_AFTER_S = 5
# A Stripe call is not started with less than this left before the request's deadline: it could not finish.
MIN_CALL_S = 0.5
# The SDK waits about this long before its retry (it backs off from 0.5 s).
RETRY_BACKOFF_S = 0.5

# The deadline (time.monotonic()) of the Stripe calls under way, which every try's timeout is cut to.
_deadline: ContextVar[float | None] = ContextVar("stripe_deadline", default=None)


@contextmanager
def _until(deadline: float | None, call: str) -> Iterator[None]:
    """Run a Stripe call within `deadline`: refused at once (503) when too little is left to make it."""
    if deadline is not None and deadline - time.monotonic() < MIN_CALL_S:
        raise errors.ServiceUnavailable(f"no time left for Stripe {call}", retry_after=RETRY_AFTER_S)
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def _retries(deadline: float | None, timeout_s: float, configured: int) -> int:
    """The SDK's retries only when a full try and its backoff still fit before the deadline."""
    if deadline is None:
        return configured
    left = deadline - time.monotonic()
    return configured if left >= timeout_s * (configured + 1) + RETRY_BACKOFF_S * configured else 0


EMAIL_REFUSED = "The payment provider does not accept this email address. Please submit again with another address."


def _urls() -> tuple[str, str]:
    s = settings()
    return s.app_base_url + s.checkout_success_path, s.app_base_url + s.checkout_cancel_path


class StripeCheckout:
    """`client` is asked for on each call: the key is read when first needed, and cached with its client.

    A `deadline` (time.monotonic()) bounds a call, its SDK retry included: every try's timeout is cut to what is
    left, the retry is dropped when it cannot fit, and a call with too little time left is not started (503)."""

    def __init__(self, client: Callable[[], StripeClient], timeout_s: float = 3.0, max_retries: int = 1) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._max_retries = max_retries

    def _retries(self, deadline: float | None) -> int:
        return _retries(deadline, self._timeout_s, self._max_retries)

    @TRACE
    def create_session(
        self,
        *,
        reckoning_id: UUID,
        email: str,
        idempotency_key: str,
        expires_at: datetime,
        deadline: float | None = None,
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
            with _until(deadline, "create"):
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
                    {"idempotency_key": idempotency_key, "max_network_retries": self._retries(deadline)},
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

    @TRACE
    def expire_session(self, session_id: str, deadline: float | None = None) -> Closed:
        import stripe

        sessions = self._client().v1.checkout.sessions
        try:
            with _until(deadline, "expire"):
                status = sessions.expire(session_id, options={"max_network_retries": self._retries(deadline)}).status
        except stripe.InvalidRequestError:
            # Only an open session can be expired (400 otherwise): ask what it is now, if there is time.
            try:
                with _until(deadline, "retrieve"):
                    status = sessions.retrieve(
                        session_id, options={"max_network_retries": self._retries(deadline)}
                    ).status
            except stripe.StripeError as exc:
                _refused(exc)
        except stripe.StripeError as exc:
            _refused(exc)
        if status not in ("expired", "complete"):
            raise errors.ServiceUnavailable(f"checkout session still {status}", retry_after=RETRY_AFTER_S)
        return "expired" if status == "expired" else "complete"

    @TRACE
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
        self,
        *,
        reckoning_id: UUID,
        email: str,
        idempotency_key: str,
        expires_at: datetime,
        deadline: float | None = None,
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

    def expire_session(self, session_id: str, deadline: float | None = None) -> Closed:
        return "expired"  # the page keeps no state: nothing to expire

    def payment_intent_of_charge(self, charge_id: str) -> str | None:
        return None  # the local page takes no money: there are no charges


@cache  # one client (and connection pool) per container; a rotated key gets a new one
def stripe_client(api_key: str, api_base: str | None, timeout_s: float, max_retries: int) -> StripeClient:
    from stripe import RequestsClient, StripeClient

    class DeadlineRequestsClient(RequestsClient):
        """Each try's timeout is the configured one, cut to what is left before the calls' deadline."""

        @property
        def _timeout(self) -> float:
            deadline = _deadline.get()
            if deadline is None:
                return timeout_s
            return max(0.05, min(timeout_s, deadline - time.monotonic()))

        @_timeout.setter
        def _timeout(self, value: object) -> None:  # set by RequestsClient.__init__; the property decides
            pass

    # The SDK logs each Stripe error message at INFO, and a message can quote the request (an email address).
    logging.getLogger("stripe").setLevel(logging.WARNING)
    base: BaseAddresses | None = {"api": api_base} if api_base else None
    return StripeClient(
        api_key,
        base_addresses=base,
        max_network_retries=max_retries,
        http_client=DeadlineRequestsClient(timeout=timeout_s),
    )
