"""Report generation for one queue message.

claim (lease) → write and validate (bounded attempts, failures fed back) → save →
PDF to S3 (skipped when present) → email with a fresh link (once per report
version) → ready. Every step is safe to repeat: a redelivery after a crash at
any point ends with one report, one PDF object and one email.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from reckoning import db, errors
from reckoning.config import settings
from reckoning.db import reckonings, reports
from reckoning.db.reckonings import Reckoning
from reckoning.db.reports import Attempt, NewReport
from reckoning.domain import costs, emails, links
from reckoning.domain.pdfs import PdfStore, Render, ensure_pdf
from reckoning.models.job import GenerateJob, Job, LinksJob
from reckoning.models.questionnaire import Questionnaires, served
from reckoning.models.status import Status
from reckoning.models.submission import Submission
from reckoning.observability import logger, metrics
from reckoning.providers.email import Mailer
from reckoning.providers.queue import Queue, SqsQueue
from reckoning.providers.writer import Draft, Writer
from reckoning.validation import GenerationMeta, ValidationResult, validate

# The validator as the worker calls it (a collaborator, so a test can stop a worker inside it).
type Validate = Callable[[Mapping[str, Any], Submission, GenerationMeta], ValidationResult]

Outcome = Literal["ready", "needs_review", "failed", "skipped", "stopped", "superseded", "links_sent", "paused"]


@dataclass(frozen=True, slots=True)
class Collaborators:
    writer: Writer
    mailer: Mailer
    store: PdfStore
    render: Render
    questionnaires: Questionnaires = field(default_factory=served)  # to read each submission as it was answered
    validate: Validate = validate
    queue: Queue = field(default_factory=SqsQueue)  # where a job paused by the spend limit goes again


@dataclass(frozen=True, slots=True)
class Claim:
    """A worker's hold on a reckoning: its later writes apply only while no one else has changed it."""

    reckoning_id: UUID
    attempt: int  # `attempts` as the claim set it


def production() -> Collaborators:
    from reckoning import pdf
    from reckoning.providers import email, storage, writer

    return Collaborators(writer.writer(), email.mailer(), storage, pdf.render)


def handle(
    database: db.Database,
    job: Job,
    deps: Collaborators,
    *,
    final_receive: bool = False,
    retry_in_s: int = 0,
    deadline: float | None = None,
) -> Outcome:
    """One queue message: a report to generate, or report links to send."""
    if isinstance(job, LinksJob):
        links.send_links(database, job, deps.mailer)
        return "links_sent"
    return generate(database, job, deps, final_receive=final_receive, retry_in_s=retry_in_s, deadline=deadline)


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
    retry_in_s: int = 0,
    deadline: float | None = None,
) -> Outcome:
    """`deadline` (time.monotonic) is when the function must be done; no model call starts that could outlast it.

    A transient failure raises, and SQS hands the message back in `retry_in_s` seconds (the lease ends then).
    On the queue's last receive the reckoning is marked failed first, claimed or not: the message goes to the DLQ.
    """
    try:
        reckoning = _claim(database, job, deadline)
    except Exception as exc:
        if final_receive:
            _give_up(database, job.reckoning_id, None, exc)
        raise
    if reckoning is None:
        logger.info(
            "not claimable: a duplicate, or another worker has it", extra={"reckoning_id": str(job.reckoning_id)}
        )
        return "skipped"
    claim = Claim(reckoning.id, reckoning.attempts)
    try:
        return _run(database, reckoning, claim, deps, deadline)
    except errors.SpendLimitReached as exc:
        _pause(database, job, claim, deps.queue, exc)
        return "paused"
    except errors.Gone:
        # Erased while this worker wrote: nothing it wrote is kept, nothing is sent.
        logger.info("the reckoning is no longer there to finish: stopped", extra=_log(claim))
        return "stopped"
    except errors.Superseded as exc:
        # A refund, an operator or another worker changed it: whoever did owns it now. Nothing more is written.
        logger.error("the reckoning changed under its worker, which stops", extra=_log(claim, step=str(exc)))
        metrics.add_metric(name="GenerationSuperseded", unit="Count", value=1)
        return "superseded"
    except errors.PermanentFailure as exc:
        _fail(database, claim, f"permanent: {exc}", exc.kind)
        return "failed"
    except Exception as exc:
        if final_receive:
            _give_up(database, reckoning.id, claim, exc)
        else:
            with database.transaction() as conn:
                reckonings.release_lease(conn, reckoning.id, claim.attempt, retry_in_s)
        raise


def _pause(
    database: db.Database, job: GenerateJob, claim: Claim, queue: Queue, reached: errors.SpendLimitReached
) -> None:
    """Queue the job again, due when the limit is looked at next: a new message, so a long pause never counts
    towards the queue's receive limit (the DLQ); this one is then done. The lease ends when the new message is
    due, so the sweeper leaves the reckoning alone until then (and re-enqueues it if that message is lost)."""
    delay = min(settings().spend_limit_recheck_s, reached.resets_in)
    with database.transaction() as conn:
        reckonings.release_lease(conn, claim.reckoning_id, claim.attempt, delay)
    if queue.send({"0": job.model_dump(mode="json", by_alias=True)}, delay_s=delay):
        raise errors.TransientFailure("the paused job could not be queued again")
    metrics.add_metric(name="GenerationPaused", unit="Count", value=1)
    logger.warning("generation paused: daily spend limit reached", extra=_log(claim, cause=str(reached)))


def _claim(database: db.Database, job: GenerateJob, deadline: float | None) -> Reckoning | None:
    if deadline is not None and time.monotonic() + attempt_budget_s() > deadline:
        raise errors.TransientFailure("not enough time left in this invocation")
    with database.transaction() as conn:
        return reckonings.claim(conn, job.reckoning_id, settings().generation_lease_s, job.reason)


def _run(
    database: db.Database, reckoning: Reckoning, claim: Claim, deps: Collaborators, deadline: float | None
) -> Outcome:
    with database.transaction() as conn:
        report = reports.current(conn, reckoning.id)
    if report is None or not report.released:  # else a redelivery after the report was saved
        questionnaire = deps.questionnaires.version(reckoning.questionnaire_version)
        submission = Submission.of(reckoning.name, reckoning.answers, questionnaire)
        draft, result = _write_until_valid(database, reckoning.id, submission, deps, deadline)
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
            _hold(conn, claim, "save")
            report = reports.save(conn, reckoning.id, new)
            cost = reports.cost(conn, reckoning.id)
            if not result.released:
                held = reckonings.finish(
                    conn, reckoning.id, claim.attempt, Status.NEEDS_REVIEW, f"confidence {result.confidence:.2f}"
                )
                _expect(held, "finish")
        if cost is not None:
            metrics.add_metric(name="ReportCostUSD", unit="None", value=float(cost))
        if not result.released:
            metrics.add_metric(name="NeedsReview", unit="Count", value=1)
            return "needs_review"
    ensure_pdf(database, deps.store, deps.render, reckoning.name, report)
    key = f"report-ready/{reckoning.id}/v{report.version}"
    emails.announce_report(
        database, deps.mailer, reckoning, report, key, check=lambda conn: _hold(conn, claim, "email")
    )
    with database.transaction() as conn:
        _expect(reckonings.finish(conn, reckoning.id, claim.attempt, Status.READY), "finish")
    metrics.add_metric(name="ReportReady", unit="Count", value=1)
    logger.info("report ready", extra={"reckoning_id": str(reckoning.id), "version": report.version})
    return "ready"


def _hold(conn: db.Connection, claim: Claim, step: str) -> None:
    """Stop before `step` unless the claim still stands (the row stays locked until this transaction ends):
    `Gone` when the person erased it meanwhile, `Superseded` when a refund, on-call or another worker took it."""
    if not reckonings.holds_claim(conn, claim.reckoning_id, claim.attempt):
        if not reckonings.hold(conn, claim.reckoning_id):
            raise errors.Gone(f"{step}: erased meanwhile")
        raise errors.Superseded(f"{step}: the claim no longer stands")


def _expect(changed: bool, step: str) -> None:
    """A lifecycle write that changed nothing where it had to: the reckoning changed under this worker."""
    if not changed:
        raise errors.Superseded(f"{step} changed nothing")


def _log(claim: Claim, **extra: object) -> dict[str, object]:
    return {"reckoning_id": str(claim.reckoning_id), "attempt": claim.attempt, **extra}


def _write_until_valid(
    database: db.Database, reckoning_id: UUID, submission: Submission, deps: Collaborators, deadline: float | None
) -> tuple[Draft, ValidationResult]:
    best: tuple[Draft, ValidationResult] | None = None
    feedback: list[str] = []
    for _ in range(settings().max_generation_attempts):
        if best is not None and deadline is not None and time.monotonic() + attempt_budget_s() > deadline:
            break  # no time for another attempt: keep the best so far
        costs.check_spend(database)  # before every model call: a runaway stops at the day's limit
        draft = _write(database, reckoning_id, submission, deps.writer, feedback)
        result = deps.validate(
            draft.content, submission, GenerationMeta(stop_reason=draft.stop_reason, model=draft.model)
        )
        attempt = Attempt(
            model=draft.model,
            latency_ms=draft.latency_ms,
            input_tokens=draft.input_tokens,
            output_tokens=draft.output_tokens,
            stop_reason=draft.stop_reason,
            confidence=round(result.confidence, 3),
            passed=result.released,
            cost_usd=costs.cost_usd(draft.model, draft.input_tokens, draft.output_tokens, datetime.now(UTC)),
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


def _fail(database: db.Database, claim: Claim, reason: str, kind: str) -> None:
    with database.transaction() as conn:
        failed = reckonings.fail(conn, claim.reckoning_id, claim.attempt, reason)
    if not failed:  # refunded or taken over meanwhile: theirs now
        logger.error("the reckoning changed under its worker, which stops", extra=_log(claim, step="fail"))
        return
    metrics.add_metric(name="GenerationFailed", unit="Count", value=1)
    if kind in {"spend_limit", "auth"}:
        metrics.add_metric(name="ProviderAlert", unit="Count", value=1)
    logger.error("generation failed permanently", extra=_log(claim, kind=kind))


def _give_up(database: db.Database, reckoning_id: UUID, claim: Claim | None, cause: Exception) -> None:
    """The last receive failed: the reckoning says so before its message goes to the DLQ. Never raises: the
    caller re-raises the cause (with the database down too, the reckoning stays paid for the sweeper)."""
    reason = f"gave up after the last receive: {type(cause).__name__}"
    try:
        with database.transaction() as conn:
            if claim is None:
                failed = reckonings.fail_unclaimed(conn, reckoning_id, reason)
            else:
                failed = reckonings.fail(conn, reckoning_id, claim.attempt, reason)
    except Exception as exc:
        logger.error(
            "could not mark the reckoning failed on the last receive",
            extra={"reckoning_id": str(reckoning_id), "error_class": type(exc).__name__},
        )
        return
    if failed:
        metrics.add_metric(name="GenerationFailed", unit="Count", value=1)
        logger.error(
            "generation failed on the queue's last receive",
            extra={"reckoning_id": str(reckoning_id), "error_class": type(cause).__name__},
        )
