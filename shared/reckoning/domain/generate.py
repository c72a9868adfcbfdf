"""Report generation for one queue message.

claim (lease) → write and validate (bounded attempts, failures fed back) → save →
PDF to S3 (skipped when present) → email with a fresh link (once per report
version) → ready. Every step is safe to repeat: a redelivery after a crash at
any point ends with one report, one PDF object and one email.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from reckoning import db, errors
from reckoning.config import settings
from reckoning.db import reckonings, reports
from reckoning.db.reckonings import Reckoning
from reckoning.db.reports import Attempt, NewReport
from reckoning.domain import emails, links
from reckoning.domain.pdfs import PdfStore, Render, ensure_pdf
from reckoning.models.job import GenerateJob, Job, LinksJob
from reckoning.models.questionnaire import Questionnaires, served
from reckoning.models.status import Status
from reckoning.models.submission import Submission
from reckoning.observability import logger, metrics
from reckoning.providers.email import Mailer
from reckoning.providers.writer import Draft, Writer
from reckoning.validation import GenerationMeta, ValidationResult, validate

Outcome = Literal["ready", "needs_review", "failed", "skipped", "stopped", "links_sent"]


@dataclass(frozen=True, slots=True)
class Collaborators:
    writer: Writer
    mailer: Mailer
    store: PdfStore
    render: Render
    questionnaires: Questionnaires = field(default_factory=served)  # to read each submission as it was answered


def production() -> Collaborators:
    from reckoning import pdf
    from reckoning.providers import email, storage, writer

    return Collaborators(writer.writer(), email.mailer(), storage, pdf.render)


def handle(
    database: db.Database, job: Job, deps: Collaborators, *, final_receive: bool = False, deadline: float | None = None
) -> Outcome:
    """One queue message: a report to generate, or report links to send."""
    if isinstance(job, LinksJob):
        links.send_links(database, job, deps.mailer)
        return "links_sent"
    return generate(database, job, deps, final_receive=final_receive, deadline=deadline)


def attempt_budget_s() -> float:
    """The longest one model call can take: every SDK try at the full timeout, plus backoff."""
    s = settings()
    return s.anthropic_timeout_s * (s.anthropic_max_retries + 1) + 20 * s.anthropic_max_retries


def generate(
    database: db.Database,
    job: GenerateJob,
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
        reckoning = reckonings.claim(conn, reckoning_id, settings().generation_lease_s, job.reason)
    if reckoning is None:
        logger.info("not claimable: a duplicate, or another worker has it", extra={"reckoning_id": str(reckoning_id)})
        return "skipped"
    try:
        return _run(database, reckoning, deps, deadline)
    except errors.Gone:
        # Erased while this worker wrote (or taken back by on-call): nothing it wrote is kept, nothing is sent.
        logger.info("the reckoning is no longer there to finish: stopped", extra={"reckoning_id": str(reckoning_id)})
        return "stopped"
    except errors.PermanentFailure as exc:
        _fail(database, reckoning_id, f"permanent: {exc}", exc.kind)
        return "failed"
    except Exception as exc:
        with database.transaction() as conn:
            if final_receive:  # the message goes to the DLQ after this: say so in the status
                reckonings.fail(conn, reckoning_id, f"gave up after the last receive: {type(exc).__name__}")
                metrics.add_metric(name="GenerationFailed", unit="Count", value=1)
            else:  # let the redelivery claim it at once
                reckonings.release_lease(conn, reckoning_id)
        raise


def _run(database: db.Database, reckoning: Reckoning, deps: Collaborators, deadline: float | None) -> Outcome:
    with database.transaction() as conn:
        report = reports.current(conn, reckoning.id)
    if report is None or not report.released:  # else a redelivery after the report was saved
        questionnaire = deps.questionnaires.version(reckoning.questionnaire_version)
        submission = Submission.of(reckoning.name, reckoning.answers, questionnaire)
        draft, result = _write_until_valid(database, reckoning.id, submission, deps.writer, deadline)
        new = NewReport(
            content=draft.content,
            confidence=result.confidence,
            layer_results=result.as_json(),
            released=result.released,
            model=draft.model,
            input_tokens=draft.input_tokens,
            output_tokens=draft.output_tokens,
        )
        with database.transaction() as conn:
            if not reckonings.hold(conn, reckoning.id):
                raise errors.Gone("erased while the report was written")
            report = reports.save(conn, reckoning.id, new)
            if not result.released:
                reckonings.finish(conn, reckoning.id, Status.NEEDS_REVIEW, f"confidence {result.confidence:.2f}")
        if not result.released:
            metrics.add_metric(name="NeedsReview", unit="Count", value=1)
            return "needs_review"
    ensure_pdf(database, deps.store, deps.render, reckoning.name, report)
    emails.announce_report(database, deps.mailer, reckoning, report, f"report-ready/{reckoning.id}/v{report.version}")
    with database.transaction() as conn:
        if not reckonings.finish(conn, reckoning.id, Status.READY):
            raise errors.Gone("no longer generating")
    metrics.add_metric(name="ReportReady", unit="Count", value=1)
    logger.info("report ready", extra={"reckoning_id": str(reckoning.id), "version": report.version})
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
        attempt = Attempt(
            model=draft.model,
            latency_ms=draft.latency_ms,
            input_tokens=draft.input_tokens,
            output_tokens=draft.output_tokens,
            stop_reason=draft.stop_reason,
            confidence=round(result.confidence, 3),
            passed=result.released,
        )
        with database.transaction() as conn:
            reports.record_attempt(conn, reckoning_id, attempt)
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
            reports.record_attempt(conn, reckoning_id, Attempt(writer.model, error_class=type(exc).__name__))
        raise


def _fail(database: db.Database, reckoning_id: UUID, reason: str, kind: str) -> None:
    with database.transaction() as conn:
        reckonings.fail(conn, reckoning_id, reason)
    metrics.add_metric(name="GenerationFailed", unit="Count", value=1)
    if kind in {"spend_limit", "auth"}:
        metrics.add_metric(name="ProviderAlert", unit="Count", value=1)
    logger.error("generation failed permanently", extra={"reckoning_id": str(reckoning_id), "kind": kind})
