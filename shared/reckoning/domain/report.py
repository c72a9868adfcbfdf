"""What a token holder may do with their reckoning: see its status and report, download the PDF, export
everything stored about it, and erase it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from reckoning import errors
from reckoning.db import export
from reckoning.db.reckonings import Reckoning
from reckoning.dependencies import Dependencies
from reckoning.domain.services import erasure, tokens
from reckoning.models.api import (
    GenerationError,
    ReportAwaitingPayment,
    ReportFailed,
    ReportGenerating,
    ReportNeedsReview,
    ReportPaid,
    ReportReady,
    ReportRefunded,
    ReportStatus,
)
from reckoning.models.export import Export, ExportedAnswer, ExportedReckoning
from reckoning.models.status import PublicStatus, Status
from reckoning.observability import logger, metrics
from reckoning.questionnaires import Questionnaires, UnknownQuestionnaire

_PLAIN = {
    Status.FAILED: "We could not write your report. We have been alerted and will be in touch.",
    Status.NEEDS_REVIEW: "Your report is being reviewed by a person before release.",
    Status.REFUNDED: (
        "This reckoning was refunded; the report is no longer available. You can still export or erase your data."
    ),
}

_WAITING: dict[PublicStatus, type[ReportAwaitingPayment | ReportPaid | ReportGenerating]] = {
    PublicStatus.AWAITING_PAYMENT: ReportAwaitingPayment,
    PublicStatus.PAID: ReportPaid,
    PublicStatus.GENERATING: ReportGenerating,
}


@dataclass(frozen=True, slots=True)
class StatusView:
    body: ReportStatus
    version: str | None = None  # the ready report's identity and version: what a cache may compare


def retry_after(status: str, seconds_in_status: float) -> int:
    """Polling hint: short at first, growing with time spent in the state, capped."""
    base, cap = (10, 60) if status == Status.AWAITING_PAYMENT else (2, 30)
    return min(cap, base + math.floor(seconds_in_status / 15))


def report_status(deps: Dependencies, token: str) -> StatusView:
    view = tokens.holder_view(deps.database, token)
    if view.report is not None:
        report = view.report
        pdf_url = f"/api/report/{token}/pdf"
        body = ReportReady(
            status=PublicStatus.READY, report=report.report, confidence=report.confidence, pdf_url=pdf_url
        )
        return StatusView(body, version=f"{report.id}-v{report.version}")
    match view.status:
        case Status.FAILED:
            message = _PLAIN[Status.FAILED]
            return StatusView(
                ReportFailed(status=PublicStatus.FAILED, message=message, error=GenerationError(message=message))
            )
        case Status.NEEDS_REVIEW:
            return StatusView(ReportNeedsReview(status=PublicStatus.NEEDS_REVIEW, message=_PLAIN[Status.NEEDS_REVIEW]))
        case Status.REFUNDED:
            return StatusView(ReportRefunded(status=PublicStatus.REFUNDED, message=_PLAIN[Status.REFUNDED]))
    elapsed = (datetime.now(UTC) - view.status_changed_at).total_seconds()
    # Ready with no released report to show (not a state the workers leave): a poll will find it, as while writing.
    status = PublicStatus.GENERATING if view.status == Status.READY else PublicStatus(view.status)
    return StatusView(_WAITING[status](status=status, retry_after_seconds=retry_after(status, elapsed)))


def pdf_location(deps: Dependencies, token: str) -> str:
    """A short-lived presigned URL of the report's PDF, as the worker stored and recorded it.

    The public function never writes PDFs (least privilege: only the generate function may): the worker stores a
    version's PDF before it marks the reckoning ready, and a redelivery writes it again if it went missing. A
    ready report with no PDF recorded is a 409 and an alert, not a render here."""
    view = tokens.holder_view(deps.database, token)
    if view.report is None:
        raise errors.Conflict("the report is not ready")
    key = view.report.pdf_key
    if key is None:
        logger.error("ready report without a stored PDF", extra={"reckoning_id": str(view.reckoning_id)})
        metrics.add_metric(name="PdfMissing", unit="Count", value=1)
        raise errors.Conflict("the PDF is not available yet")
    return deps.store.presigned_pdf_url(key, deps.policy.pdf_url_ttl_s)


def export_of(deps: Dependencies, token: str) -> Export:
    """Everything stored about the reckoning (GET /api/report/{token}/export)."""
    with deps.database.transaction() as conn:
        reckoning = tokens.reckoning_for(conn, token)
        rows = export.rows(conn, reckoning.id)
    return Export(
        exported_at=datetime.now(UTC),
        reckoning=ExportedReckoning.model_validate(reckoning, from_attributes=True),
        answers=_answers(reckoning, deps.questionnaires),
        reports=rows["reports"],
        payments=rows["payments"],
        payment_events=rows["stripe_events"],
        emails=rows["emails"],
        links=rows["access_tokens"],
        status_history=rows["reckoning_events"],
        generation_attempts=rows["generation_attempts"],
        idempotent_requests=rows["idempotency_keys"],
    )


def erase(deps: Dependencies, token: str) -> None:
    """The person's erasure: afterwards the token is as unknown as any other (docs/privacy.md)."""
    erasure.erase_by_token(deps, token)


def _answers(reckoning: Reckoning, questionnaires: Questionnaires) -> list[ExportedAnswer]:
    try:
        asked = questionnaires.version(reckoning.questionnaire_version)
    except UnknownQuestionnaire:  # a version missing from the build: the answers still go out
        prompts = {}
    else:
        prompts = {question.id: question.prompt for question in asked.questions}
    return [
        ExportedAnswer(question_id=key, question=prompts.get(key), answer=value)
        for key, value in reckoning.answers.items()
    ]
