"""The ports: every outside service the domain reaches, as a small protocol with no SDK import.

The adapters live in `providers/` (one class each); `bootstrap.production()` builds them once per process.
Failures cross a port as `errors.TransientFailure` (retry later) or `errors.PermanentFailure` (with a kind).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from reckoning.models.judgement import Suspicion, Verdict
    from reckoning.models.report import Report
    from reckoning.models.submission import Submission

# ---------------------------------------------------------------------------------------------- the report writer


@dataclass(frozen=True, slots=True)
class Draft:
    """One model answer. `content` may violate the report schema: the quality gate judges it."""

    content: dict[str, Any]
    model: str
    stop_reason: str | None  # Anthropic stop_reason: "end_turn", "max_tokens", "refusal", "tool_use", ...
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class Writer(Protocol):
    model: str

    def write(self, submission: Submission, feedback: Sequence[str] = ()) -> Draft:
        """A draft report; `feedback` lists what the gate rejected in the previous attempt."""
        ...


# -------------------------------------------------------------------------------------------------------- email


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """A composed message; the recipient is given when it is sent."""

    subject: str
    html: str
    text: str


class Mailer(Protocol):
    def send(self, email: OutgoingEmail, to: str, idempotency_key: str) -> str:
        """Send once per idempotency key; return the provider's message id (the same id on a repeat).

        Resend remembers a key for 24 hours: the `emails` table is what keeps a later repeat from sending.
        """
        ...


# ------------------------------------------------------------------------------------------------------ payments


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    url: str
    amount: int
    currency: str
    expires_at: datetime


# What became of a session we asked Stripe to expire: it can no longer be paid, or it was paid (or is being
# paid) first.
Closed = Literal["expired", "complete"]


class Checkout(Protocol):
    def create_session(
        self,
        *,
        reckoning_id: UUID,
        email: str,
        idempotency_key: str,
        expires_at: datetime,
        deadline: float | None = None,
    ) -> CheckoutSession:
        """Create (or, for a key seen before, get back) the session. The same key must always come with
        the same arguments: Stripe refuses a key reused with other parameters for 24 hours. `deadline`
        (time.monotonic()): the call ends by then, or raises ServiceUnavailable."""
        ...

    def expire_session(self, session_id: str, deadline: float | None = None) -> Closed:
        """Make sure the session can no longer be paid, before another is handed out (by `deadline`, if given)."""
        ...

    def payment_intent_of_charge(self, charge_id: str) -> str | None:
        """The payment intent a charge belongs to (None: no such charge), for on-call's lookups."""
        ...


class Signatures(Protocol):
    def verify(self, payload: str, header: str | None) -> None:
        """Raise InvalidSignature unless `header` signs `payload` and is recent (ServiceUnavailable: no secret)."""
        ...


# ---------------------------------------------------------------------------------------------------- the queue


@dataclass(frozen=True, slots=True)
class DeadLetter:
    body: str
    receipt_handle: str


class Queue(Protocol):
    def send(self, messages: Mapping[str, dict[str, Any]], delay_s: int = 0) -> set[str]:
        """Send messages keyed by an id of the caller's, delivered after `delay_s` (at most 900 s); return the
        ids that failed."""
        ...

    def hand_back(self, receipt_handle: str, seconds: int) -> None:
        """Make a received message visible again in `seconds` (counted from now)."""
        ...

    def waiting(self) -> int:
        """About how many messages are visible (waiting for a worker) now; delayed and in-flight ones not."""
        ...

    def dead_letters(self, limit: int) -> list[DeadLetter]:
        """Up to `limit` messages from the dead-letter queue (received, not yet deleted)."""
        ...

    def requeue_dead_letter(self, letter: DeadLetter) -> None:
        """Send the dead letter's body to the report queue again, then delete it from the dead-letter queue."""
        ...


# ------------------------------------------------------------------------------------------------- object store


class ObjectStore(Protocol):
    def pdf_key(self, reckoning_id: UUID, version: int) -> str: ...
    def exists(self, key: str) -> bool: ...
    def put_pdf_if_absent(self, key: str, data: bytes) -> bool: ...
    def delete_reckoning(self, reckoning_id: UUID) -> int: ...
    def presigned_pdf_url(self, key: str, ttl_s: int) -> str: ...


# A report version as a PDF: (report, the person's name, when the version was written) -> bytes.
type Render = Callable[[Report, str | None, datetime], bytes]


# ------------------------------------------------------------------------------------------------------ the judge


class Judge(Protocol):
    model: str

    def judge(self, submission: Submission, report: Mapping[str, Any], suspicions: tuple[Suspicion, ...]) -> Verdict:
        """A verdict per judgement category, each finding quoting the draft verbatim.

        Raises `reckoning.errors.TransientFailure` when the call fails (nothing is released unjudged).
        """
        ...


# ---------------------------------------------------------------------------------------------------------- keys


class Keys(Protocol):
    """The secret the domain itself uses, read when first needed (a function never fetches what it does not use)."""

    def digest_key(self) -> str:
        """The HMAC key of stored digests of addresses and IPs (ServiceUnavailable when not configured)."""
        ...
