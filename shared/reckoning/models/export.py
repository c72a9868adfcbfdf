"""The export of GET /api/report/{token}/export: everything stored about one reckoning."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue

from reckoning.models import ApiModel
from reckoning.models.report import Report
from reckoning.models.status import PaymentStatus, Status


class ExportedReckoning(ApiModel):
    created_at: datetime
    status: Status
    email: str
    name: str | None = None
    questionnaire_version: str


class ExportedAnswer(ApiModel):
    question_id: str
    question: str | None = Field(default=None, description="The question as asked (absent if its version lacks it).")
    answer: JsonValue = Field(default=None, description="As sent; absent when the question was left unanswered.")


class ExportedReport(ApiModel):
    version: int = Field(description="A new version replaces the text of the one before.")
    written_at: datetime
    released: bool
    content: Report | None = Field(default=None, description="Absent while the report is held for review.")


class ExportedPayment(ApiModel):
    amount: int = Field(description="In minor units. No card data is stored: Stripe holds it.")
    currency: str
    status: PaymentStatus
    checkout_session_id: str
    payment_intent_id: str | None = None
    created_at: datetime
    paid_at: datetime | None = None


class ExportedPaymentEvent(ApiModel):
    at: datetime
    type: str = Field(description="The Stripe event type, e.g. checkout.session.completed.")


class ExportedEmail(ApiModel):
    kind: Literal["report_ready", "report_links"]
    status: Literal["pending", "sent", "failed"]
    created_at: datetime
    sent_at: datetime | None = None


class ExportedLink(ApiModel):
    purpose: Literal["report", "email_link"] = Field(description="report: handed out on submission.")
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class ExportedStatusChange(ApiModel):
    at: datetime
    status: str


class ExportedAttempt(ApiModel):
    at: datetime
    model: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    passed: bool | None = None
    cost_usd: float | None = Field(default=None, description="What the call cost, in USD (reckoning/prices.json).")


class ExportedRequest(ApiModel):
    route: str = Field(description="A request sent with an Idempotency-Key; the key itself is not kept.")
    created_at: datetime
    completed_at: datetime | None = None


class Export(ApiModel):
    exported_at: datetime
    reckoning: ExportedReckoning
    answers: list[ExportedAnswer]
    reports: list[ExportedReport]
    payments: list[ExportedPayment]
    payment_events: list[ExportedPaymentEvent]
    emails: list[ExportedEmail]
    links: list[ExportedLink] = Field(description="Issue and expiry dates of every link; never the links themselves.")
    status_history: list[ExportedStatusChange]
    generation_attempts: list[ExportedAttempt]
    idempotent_requests: list[ExportedRequest]
