"""Adapters to Stripe, Anthropic, Resend, S3 and SQS, with offline stand-ins.

Every SDK is imported inside the adapter that uses it, never at module level,
so a function only pays at cold start for what it calls.
"""

from __future__ import annotations

from collections.abc import Callable

from reckoning.config import settings
from reckoning.errors import ServiceUnavailable
from reckoning.observability import logger


def choose[T](setting: str, real: Callable[[], T] | None, stand_in: Callable[[], T]) -> T:
    """The real provider when `setting` is configured (`real` given); else, outside production only, the
    offline stand-in, said so in the log. Production never stands in: a paying customer would get a template
    report, no email, or a checkout page that takes no money."""
    if real is not None:
        return real()
    if not settings().offline:
        raise ServiceUnavailable(f"{setting} is not configured")
    chosen = stand_in()
    logger.info(f"{setting} not set: using an offline stand-in", extra={"stand_in": type(chosen).__name__})
    return chosen
