"""The statuses of a reckoning and of a payment: the values their `status` columns hold (docs/lifecycle.md)."""

from enum import StrEnum


class Status(StrEnum):
    """Where a reckoning is in its lifecycle."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    GENERATING = "generating"
    READY = "ready"
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"
    REFUNDED = "refunded"
    ERASING = "erasing"  # personal data cleared; stored objects still being deleted
    ERASED = "erased"  # only the anonymous accounting record is left


class PublicStatus(StrEnum):
    """The statuses a token holder can see: an erasing or erased reckoning has no live token (404)."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    GENERATING = "generating"
    READY = "ready"
    FAILED = "failed"
    NEEDS_REVIEW = "needs_review"
    REFUNDED = "refunded"


class PaymentStatus(StrEnum):
    """Where one Stripe Checkout session is."""

    OPEN = "open"
    PROCESSING = "processing"  # completed with a delayed method: the money has not arrived yet
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"
