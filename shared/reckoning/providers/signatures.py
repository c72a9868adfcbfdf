"""Stripe's webhook signatures, checked with the SDK's own verifier."""

from __future__ import annotations

import time
from collections.abc import Callable

from reckoning import errors


class StripeSignatures:
    """`secret` is read when first needed; None means the function was deployed without it."""

    def __init__(self, secret: Callable[[], str | None], tolerance_s: int) -> None:
        self._secret = secret
        self.tolerance_s = tolerance_s

    def verify(self, payload: str, header: str | None) -> None:
        secret = self._secret()
        if not secret:
            raise errors.ServiceUnavailable("STRIPE_WEBHOOK_SECRET is not configured")
        verify(payload, header, secret, self.tolerance_s)


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
