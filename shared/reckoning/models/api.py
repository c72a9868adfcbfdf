"""Request and response bodies of the HTTP contract (DESIGN §3)."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from pydantic import Field, JsonValue, field_validator

from reckoning.models import ApiModel
from reckoning.models.report import Report
from reckoning.models.status import Status

# Deliberately simple: one @, a dot in the domain, no spaces. Delivery is the real check.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def _no_control_chars(value: str) -> str:
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in value):
        raise ValueError("Contains control characters.")
    return value


class SubmitRequest(ApiModel):
    email: str = Field(max_length=254, description="Where the report link is sent.")
    name: str | None = Field(default=None, min_length=1, max_length=100, description="How the report addresses you.")
    questionnaire_version: str | None = Field(default=None, max_length=40)
    answers: dict[str, JsonValue] = Field(max_length=100, description="Answers keyed by question id.")
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


class SubmitResult(ApiModel):
    token: str = Field(description="Secret access token: keep it, it is the only way to the report.")
    status: Status
    report_url: str


class GenerationError(ApiModel):
    """Why a paid reckoning has no report (the poll itself still succeeds: DESIGN §3)."""

    code: Literal["GENERATION_FAILED"] = "GENERATION_FAILED"
    message: str


class ReportStatus(ApiModel):
    status: Status
    retry_after_seconds: int | None = Field(default=None, description="Poll again after this many seconds.")
    report: Report | None = None
    confidence: float | None = None
    pdf_url: str | None = None
    message: str | None = None
    error: GenerationError | None = Field(default=None, description="Only when the status is failed.")


class LinksRequest(ApiModel):
    email: str = Field(max_length=254, description="The address the reckonings were submitted with.")

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
