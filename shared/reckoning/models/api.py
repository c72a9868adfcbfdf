"""Request and response bodies of the HTTP contract (DESIGN §3)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, JsonValue, field_validator

from reckoning.models import CONTROL, CONTROL_CHARACTERS, END, SPACE, ApiModel
from reckoning.models.report import Report
from reckoning.models.status import PublicStatus

# Deliberately simple: one @, a dot in the domain, no spaces. Delivery is the real check.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# What the validators below accept, for the OpenAPI document (spaces around are stripped first).
_SOLID = f"[^{CONTROL}{SPACE}]"
_EMAIL_PART = f"[^@{CONTROL}{SPACE}]"
EMAIL_PATTERN = f"^[{SPACE}]*{_EMAIL_PART}{{1,64}}@{_EMAIL_PART}+\\.{_EMAIL_PART}{{2,}}[{SPACE}]*{END}"
NAME_PATTERN = f"^[{SPACE}]*(?:{_SOLID}(?:[^{CONTROL}]*{_SOLID})?)?[{SPACE}]*{END}"


def _answers_schema(schema: dict[str, Any]) -> None:
    # The current questionnaire's questions, read when the OpenAPI document is generated (never at import).
    from reckoning import questionnaires
    from reckoning.models.answers import answers_schema

    schema.clear()
    schema.update(answers_schema(questionnaires.current()))


def _version_schema(schema: dict[str, Any]) -> None:
    from reckoning import questionnaires

    schema.clear()
    current = {"type": "string", "enum": [questionnaires.current().version]}
    schema.update({"anyOf": [current, {"type": "null"}], "description": "The current version, if given."})


def _no_control_chars(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("Contains control characters.")
    return value


# The Idempotency-Key request header of POST /api/reckoning and POST /api/checkout (domain/idempotency.py).
# Read by the routes themselves (Powertools' Header() costs 40-80 µs a request) and documented as this.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{16,255}$"
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A new random value (a UUID v4) per intended request; a retry sends the same one. The same key "
    "with the same body gets the first answer again, marked Idempotent-Replayed: true; with another body, 409. "
    "Keys are kept 24 hours.",
    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
}
# The response header of such a replay (Stripe's name for it), as the OpenAPI document describes it.
REPLAYED_HEADER = "Idempotent-Replayed"
REPLAYED = {REPLAYED_HEADER: "true: the first answer to this Idempotency-Key and body, again."}


class SubmitRequest(ApiModel):
    email: str = Field(
        max_length=254, description="Where the report link is sent.", json_schema_extra={"pattern": EMAIL_PATTERN}
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="How the report addresses you.",
        json_schema_extra={"pattern": NAME_PATTERN},
    )
    questionnaire_version: str | None = Field(default=None, max_length=40, json_schema_extra=_version_schema)
    answers: dict[str, JsonValue] = Field(
        max_length=100, description="Answers keyed by question id.", json_schema_extra=_answers_schema
    )
    consent: Literal[True] = Field(description="Agreement to the terms; must be true.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = _no_control_chars(value.strip())
        if not _EMAIL.match(value):
            raise ValueError("Must be a valid email address.")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _no_control_chars(value.strip()) or None


class Submitted(ApiModel):
    """What submitting stores and an idempotent replay hands back."""

    token: str = Field(description="Secret access token: keep it, it is the only way to the report.")
    status: PublicStatus


class SubmitResult(Submitted):
    report_url: str = Field(description="Where to poll the status and read the report (an API path).")


class GenerationError(ApiModel):
    """Why a paid reckoning has no report (the poll itself still succeeds: DESIGN §3)."""

    code: Literal["GENERATION_FAILED"] = "GENERATION_FAILED"
    message: str


_RETRY_AFTER = "Poll again after this many seconds (also the Retry-After header)."


class ReportAwaitingPayment(ApiModel):
    """Submitted, not paid yet: POST /api/checkout opens the payment page."""

    status: Literal[PublicStatus.AWAITING_PAYMENT]
    retry_after_seconds: int = Field(description=_RETRY_AFTER)


class ReportPaid(ApiModel):
    """Paid; the report is queued to be written."""

    status: Literal[PublicStatus.PAID]
    retry_after_seconds: int = Field(description=_RETRY_AFTER)


class ReportGenerating(ApiModel):
    """The report is being written and checked."""

    status: Literal[PublicStatus.GENERATING]
    retry_after_seconds: int = Field(description=_RETRY_AFTER)


class ReportReady(ApiModel):
    """The report, with an ETag to revalidate it (If-None-Match: 304 while unchanged)."""

    status: Literal[PublicStatus.READY]
    report: Report
    confidence: float = Field(description="How sure the quality gate is of the report, 0 to 1.")
    pdf_url: str = Field(description="GET it for a short-lived link (302) to the PDF.")


class ReportFailed(ApiModel):
    """Paid, and no report could be written (the poll itself still succeeds: DESIGN §3)."""

    status: Literal[PublicStatus.FAILED]
    message: str
    error: GenerationError


class ReportNeedsReview(ApiModel):
    """Held for a person to review before release."""

    status: Literal[PublicStatus.NEEDS_REVIEW]
    message: str


class ReportRefunded(ApiModel):
    """Refunded: the report is no longer available."""

    status: Literal[PublicStatus.REFUNDED]
    message: str


# What GET /api/report/{token} answers: one shape per status, told apart by `status`.
type ReportStatus = Annotated[
    ReportAwaitingPayment
    | ReportPaid
    | ReportGenerating
    | ReportReady
    | ReportFailed
    | ReportNeedsReview
    | ReportRefunded,
    Field(discriminator="status"),
]


class LinksRequest(ApiModel):
    email: str = Field(
        max_length=254,
        description="The address the reckonings were submitted with.",
        json_schema_extra={"pattern": EMAIL_PATTERN},
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return SubmitRequest._email(value)


class LinksAccepted(ApiModel):
    message: str = "If this address has reports with us, an email with fresh links is on its way."


class CheckoutRequest(ApiModel):
    token: str = Field(max_length=100, description="The access token returned by POST /api/reckoning.")


class CheckoutResult(ApiModel):
    checkout_url: str = Field(description="Redirect the browser here to pay.")
    session_id: str
    amount: int = Field(description="In minor units (cents), as Stripe reports it.")
    currency: str


class WebhookReceived(ApiModel):
    received: Literal[True] = True


class Erased(ApiModel):
    erased: Literal[True] = True
