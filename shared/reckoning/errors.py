"""Domain errors. They know nothing of HTTP: `reckoning.http` maps them to responses.

Each docstring is the fixed, client-safe message; the cause goes to the log only.
"""

from dataclasses import dataclass


class ReckoningError(Exception):
    """Something went wrong."""

    @property
    def public_message(self) -> str:
        return (type(self).__doc__ or ReckoningError.__doc__ or "").strip()


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class ValidationFailed(ReckoningError):
    """The request is invalid."""

    def __init__(self, details: list[FieldError]) -> None:
        super().__init__(f"{len(details)} invalid field(s)")
        self.details = details


class NotFound(ReckoningError):
    """Not found."""


# The reckoning was erased while work on it was in flight: the work stops, leaving nothing behind. A client sees
# the 404 of any unknown token (the docstring is the public message: the same as NotFound's).
class Gone(NotFound):
    """Not found."""


class Conflict(ReckoningError):
    """The request conflicts with the current state."""


class IdempotencyKeyReused(Conflict):
    """This Idempotency-Key was already used with another request body; use a new key for a new request."""


class IdempotencyKeyInFlight(Conflict):
    """A request with this Idempotency-Key is still being processed; retry after Retry-After seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"in flight, retry after {retry_after}s")
        self.retry_after = retry_after


class PayloadTooLarge(ReckoningError):
    """The request body is too large."""


class UnsupportedMediaType(ReckoningError):
    """The request body must be JSON (Content-Type: application/json)."""


class InvalidSignature(ReckoningError):
    """The signature could not be verified."""


class RateLimited(ReckoningError):
    """Too many requests; retry later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class ServiceUnavailable(ReckoningError):
    """The service is temporarily unavailable; retry later."""

    def __init__(self, cause: str = "", retry_after: int = 5) -> None:
        super().__init__(cause)
        self.retry_after = retry_after


class IdempotencyKeySpent(ReckoningError):
    """A provider will not carry out this request under its idempotency key again: it refuses other
    parameters for it, or replays a saved failure. Only a new key gets a new answer."""


class TransientFailure(ReckoningError):
    """A dependency failed for now; the work is retried."""


class ProviderBusy(TransientFailure):
    """The model provider asked us to wait (429 rate limit, 529 overload), or its rate-limit headers say the next
    call would not fit: the job waits that long, it does not fail."""

    def __init__(self, cause: str, retry_after_s: float) -> None:
        super().__init__(cause)
        self.retry_after_s = retry_after_s


class PermanentFailure(ReckoningError):
    """A dependency refused the work; retrying will not help."""

    def __init__(self, cause: str = "", kind: str = "refused") -> None:
        super().__init__(cause)
        # What an alert metric is named after, e.g. "spend_limit", "auth", "invalid_request".
        self.kind = kind


class SpendLimitReached(ReckoningError):
    """Today's model calls have cost the daily spend limit: generation waits until the limit allows more."""

    def __init__(self, cause: str, resets_in: int) -> None:
        super().__init__(cause)
        self.resets_in = resets_in  # seconds until the day (UTC) ends


class Superseded(ReckoningError):
    """The reckoning changed under this worker: refunded, reopened, or claimed again by another."""


class WebhookFailed(ReckoningError):
    """A webhook delivery was not processed; the sender delivers it again."""
