"""Report generation for one queue message.

claim (lease) → write and validate (bounded attempts, failures fed back) → save →
PDF to S3 (skipped when present) → email with a fresh link (once per report
version) → ready. Every step is safe to repeat: a redelivery after a crash at
any point ends with one report, one PDF object and one email.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from reckoning import db, errors
from reckoning.config import settings
from reckoning.db import reports
from reckoning.domain import links, tokens
from reckoning.models.questionnaire import Questionnaires, served
from reckoning.models.report import Report
from reckoning.models.submission import Submission
from reckoning.observability import logger, metrics
from reckoning.providers.email import Mailer, compose_report_ready
from reckoning.providers.writer import Draft, Writer
from reckoning.validation import GenerationMeta, ValidationResult, validate

Outcome = Literal["ready", "needs_review", "failed", "skipped", "links_sent"]


class Job(BaseModel):
    """The report queue's message body."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    reckoning_id: UUID = Field(alias="reckoningId")
    reason: Literal["payment", "retry", "links"] = "payment"
    request_id: str | None = Field(default=None, alias="requestId", max_length=200)


class PdfStore(Protocol):
    def pdf_key(self, reckoning_id: UUID, version: int) -> str: ...
    def exists(self, key: str) -> bool: ...
    def put_pdf_if_absent(self, key: str, data: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class Collaborators:
    writer: Writer
    mailer: Mailer
    store: PdfStore
    render: Callable[[Report, str | None, datetime], bytes]
    questionnaires: Questionnaires = field(default_factory=served)  # to read each submission as it was answered


def production() -> Collaborators:
    from reckoning import pdf
    from reckoning.providers import email, storage, writer

    return Collaborators(writer.writer(), email.mailer(), storage, pdf.render)


def handle(
    database: db.Database, job: Job, deps: Collaborators, *, final_receive: bool = False, deadline: float | None = None
) -> Outcome:
    """One queue message: a report to generate, or report links to send."""
    if job.reason == "links":
        links.send_links(database, job.reckoning_id, job.request_id or str(job.reckoning_id), deps.mailer)
        return "links_sent"
    return generate(database, job, deps, final_receive=final_receive, deadline=deadline)


def attempt_budget_s() -> float:
    """The longest one model call can take: every SDK try at the full timeout, plus backoff."""
    s = settings()
    return s.anthropic_timeout_s * (s.anthropic_max_retries + 1) + 20 * s.anthropic_max_retries


def generate(
    database: db.Database,
    job: Job,
    deps: Collaborators,
    *,
    final_receive: bool = False,
    deadline: float | None = None,
) -> Outcome:
    """`deadline` (time.monotonic) is when the function must be done; no model call starts that could outlast it."""
    reckoning_id = job.reckoning_id
    if deadline is not None and time.monotonic() + attempt_budget_s() > deadline:
        raise errors.TransientFailure("not enough time left in this invocation")
    with database.transaction() as conn:
        row = reports.claim(conn, reckoning_id, settings().generation_lease_s, job.reason)
    if row is None:
        logger.info("not claimable: a duplicate, or another worker has it", extra={"reckoning_id": str(reckoning_id)})
        return "skipped"
    try:
        return _run(database, row, deps, deadline)
    except errors.PermanentFailure as exc:
        _fail(database, reckoning_id, f"permanent: {exc}", getattr(exc, "kind", "permanent"))
        return "failed"
    except Exception as exc:
        with database.transaction() as conn:
            if final_receive:  # the message goes to the DLQ after this: say so in the status
                reports.fail(conn, reckoning_id, f"gave up after the last receive: {type(exc).__name__}")
                metrics.add_metric(name="GenerationFailed", unit="Count", value=1)
            else:  # let the redelivery claim it at once
                reports.release_lease(conn, reckoning_id)
        raise


def _run(database: db.Database, row: dict[str, Any], deps: Collaborators, deadline: float | None) -> Outcome:
    reckoning_id: UUID = row["id"]
    with database.transaction() as conn:
        existing = reports.report_for(conn, reckoning_id)
    if existing is not None and existing["released"]:  # a redelivery after the report was saved
        version, report = existing["version"], Report.model_validate(existing["content"])
    else:
        questionnaire = deps.questionnaires.version(row["questionnaire_version"])
        submission = Submission.of(row["name"], row["answers"], questionnaire)
        draft, result = _write_until_valid(database, reckoning_id, submission, deps.writer, deadline)
        with database.transaction() as conn:
            version = reports.save_report(
                conn,
                reckoning_id,
                content=draft.content,
                confidence=result.confidence,
                layer_results=result.as_json(),
                released=result.released,
                model=draft.model,
                input_tokens=draft.input_tokens,
                output_tokens=draft.output_tokens,
            )
            if not result.released:
                reports.finish(conn, reckoning_id, "needs_review", f"confidence {result.confidence:.2f}")
        if not result.released:
            metrics.add_metric(name="NeedsReview", unit="Count", value=1)
            return "needs_review"
        report = Report.model_validate(draft.content)
    _ensure_pdf(database, reckoning_id, version, report, row["name"], deps)
    _email_once(database, row, version, report, deps.mailer)
    with database.transaction() as conn:
        reports.finish(conn, reckoning_id, "ready")
    metrics.add_metric(name="ReportReady", unit="Count", value=1)
    logger.info("report ready", extra={"reckoning_id": str(reckoning_id), "version": version})
    return "ready"


def _write_until_valid(
    database: db.Database, reckoning_id: UUID, submission: Submission, writer: Writer, deadline: float | None
) -> tuple[Draft, ValidationResult]:
    best: tuple[Draft, ValidationResult] | None = None
    feedback: list[str] = []
    for _ in range(settings().max_generation_attempts):
        if best is not None and deadline is not None and time.monotonic() + attempt_budget_s() > deadline:
            break  # no time for another attempt: keep the best so far
        draft = _write(database, reckoning_id, submission, writer, feedback)
        result = validate(draft.content, submission, GenerationMeta(stop_reason=draft.stop_reason, model=draft.model))
        with database.transaction() as conn:
            reports.record_attempt(
                conn,
                reckoning_id,
                model=draft.model,
                latency_ms=draft.latency_ms,
                input_tokens=draft.input_tokens,
                output_tokens=draft.output_tokens,
                stop_reason=draft.stop_reason,
                confidence=round(result.confidence, 3),
                passed=result.released,
            )
        metrics.add_metric(name="GenerationAttempt", unit="Count", value=1)
        if best is None or result.confidence > best[1].confidence:
            best = (draft, result)
        if result.released:
            break
        feedback = result.feedback()
    assert best is not None  # noqa: S101 - max_generation_attempts >= 1 by settings validation
    return best


def _write(
    database: db.Database, reckoning_id: UUID, submission: Submission, writer: Writer, feedback: list[str]
) -> Draft:
    try:
        return writer.write(submission, feedback)
    except (errors.TransientFailure, errors.PermanentFailure) as exc:
        with database.transaction() as conn:
            reports.record_attempt(conn, reckoning_id, model=writer.model, error_class=type(exc).__name__)
        raise


def _ensure_pdf(
    database: db.Database, reckoning_id: UUID, version: int, report: Report, name: str | None, deps: Collaborators
) -> None:
    key = deps.store.pdf_key(reckoning_id, version)
    if not deps.store.exists(key):
        deps.store.put_pdf_if_absent(key, deps.render(report, name, datetime.now(UTC)))
    with database.transaction() as conn:
        reports.set_pdf_key(conn, reckoning_id, version, key)


def _email_once(database: db.Database, row: dict[str, Any], version: int, report: Report, mailer: Mailer) -> None:
    reckoning_id: UUID = row["id"]
    key = f"report-ready/{reckoning_id}/v{version}"
    ttl_days = settings().report_token_ttl_days
    with database.transaction() as conn:
        sent = reports.email_by_key(conn, key)
        if sent is not None and sent["status"] in {"sent", "failed"}:
            return
        reports.insert_email(conn, reckoning_id, "report_ready", key)
        token = tokens.mint(conn, reckoning_id, "email_link", timedelta(days=ttl_days) if ttl_days else None)
    message = compose_report_ready(row["name"], tokens.report_link(token), report.title)
    try:
        provider_id = mailer.send(message, row["email"], key)
    except errors.PermanentFailure as exc:  # e.g. quota exhausted: the report stays available, on-call resends
        with database.transaction() as conn:
            reports.mark_email_failed(conn, key, getattr(exc, "kind", type(exc).__name__))
        metrics.add_metric(name="EmailFailed", unit="Count", value=1)
        logger.error("report email not sent", extra={"reckoning_id": str(reckoning_id), "error_class": str(exc)})
        return
    with database.transaction() as conn:
        reports.mark_email_sent(conn, key, provider_id)


def _fail(database: db.Database, reckoning_id: UUID, reason: str, kind: str) -> None:
    with database.transaction() as conn:
        reports.fail(conn, reckoning_id, reason)
    metrics.add_metric(name="GenerationFailed", unit="Count", value=1)
    if kind in {"spend_limit", "auth"}:
        metrics.add_metric(name="ProviderAlert", unit="Count", value=1)
    logger.error("generation failed permanently", extra={"reckoning_id": str(reckoning_id), "kind": kind})
