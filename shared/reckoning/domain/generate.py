"""Report generation for one queue message.

claim (lease) → write and validate (bounded attempts, failures fed back) → save →
PDF to S3 (skipped when present) → email with a fresh link (once per report
version) → ready. Every step is safe to repeat: a redelivery after a crash at
any point ends with one report, one PDF object and one email.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from reckoning import db, errors
from reckoning.db import queue_progress, reckonings, reports
from reckoning.db.reckonings import Reckoning
from reckoning.db.reports import Attempt, NewReport
from reckoning.dependencies import Dependencies, Policy
from reckoning.domain.services import costs, emails
from reckoning.domain.services.pdfs import ensure_pdf
from reckoning.models.job import GenerateJob, wire
from reckoning.models.status import Status
from reckoning.models.submission import Submission
from reckoning.observability import count_by, logger, metrics
from reckoning.ports import Draft
from reckoning.validation import GenerationMeta, ValidationResult

Outcome = Literal["ready", "needs_review", "failed", "skipped", "stopped", "superseded", "paused", "waiting"]

# SQS allows up to 12 hours; a paying customer should not wait more than an hour for the next try.
MAX_RETRY_DELAY_S = 3600
# A job waiting for the model provider comes back within SQS's delay bounds.
MIN_WAIT_S, MAX_WAIT_S = 1, 900
_jitter = random.SystemRandom()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One receive of a job's message, as the worker's record handler and failure handler both read it."""

    receive: int  # 1 for the first delivery
    final: bool  # the queue sends the message to the DLQ instead of delivering it again
    retry_in_s: int  # when a failure on this receive comes back (0 on the final one: straight to the DLQ)
    deadline: float | None = None  # time.monotonic() by which the invocation must be done
    sent_at: datetime | None = None  # when the queue got the message (SQS SentTimestamp): the queue's progress

    @classmethod
    def of(
        cls, receive: int, policy: Policy, deadline: float | None = None, sent_at: datetime | None = None
    ) -> Delivery:
        final = receive >= policy.queue_max_receive_count
        return cls(receive, final, 0 if final else retry_delay_s(policy, receive), deadline, sent_at)


def retry_delay_s(policy: Policy, receive: int) -> int:
    """Seconds until a job that failed on its `receive`-th receive comes back: base x 4^(receive - 1), at most
    an hour (60, 240, 960, 3600 s by default). No jitter: retries keep the spread the orders arrived with, and
    the concurrency cap bounds how many run at once."""
    return min(MAX_RETRY_DELAY_S, math.ceil(policy.generation_retry_base_s * 4.0 ** (receive - 1)))


@dataclass(frozen=True, slots=True)
class Claim:
    """A worker's hold on a reckoning: its later writes apply only while no one else has changed it."""

    reckoning_id: UUID
    attempt: int  # `attempts` as the claim set it


def generate(deps: Dependencies, job: GenerateJob, delivery: Delivery) -> Outcome:
    """Claim the reckoning, then write, check, save, render and announce its report.

    A transient failure raises, and SQS hands the message back in `delivery.retry_in_s` seconds (the lease
    ends then). On the final receive the reckoning is marked failed first, claimed or not: the message goes
    to the DLQ.
    """
    reckoning = claim(deps, job, delivery)
    if reckoning is None:
        logger.info(
            "not claimable: a duplicate, or another worker has it", extra={"reckoning_id": str(job.reckoning_id)}
        )
        return "skipped"
    return settle(deps, job, reckoning, delivery)


def claim(deps: Dependencies, job: GenerateJob, delivery: Delivery) -> Reckoning | None:
    """Take the lease on the reckoning (None: not claimable now); no model call starts that could outlast
    the invocation."""
    try:
        if delivery.deadline is not None and time.monotonic() + deps.policy.model_call_budget_s > delivery.deadline:
            raise errors.TransientFailure("not enough time left in this invocation")
        with deps.database.transaction() as conn:
            if delivery.sent_at is not None:  # the queue has got this far (the sweeper's measure of waiting)
                queue_progress.advance(conn, delivery.sent_at)
            return reckonings.claim(conn, job.reckoning_id, deps.policy.generation_lease_s, job.reason)
    except Exception as exc:
        if delivery.final:
            _give_up(deps.database, job.reckoning_id, None, exc)
        raise


def settle(deps: Dependencies, job: GenerateJob, reckoning: Reckoning, delivery: Delivery) -> Outcome:
    """Run the claimed job to its end, and say how it ended; a transient failure releases the lease and raises."""
    claimed = Claim(reckoning.id, reckoning.attempts)
    try:
        return _run(deps, reckoning, claimed, delivery.deadline)
    except errors.SpendLimitReached as exc:
        _defer(deps, job, claimed, min(deps.policy.spend_limit_recheck_s, exc.resets_in))
        metrics.add_metric(name="GenerationPaused", unit="Count", value=1)
        logger.warning("generation paused: daily spend limit reached", extra=_log(claimed, cause=str(exc)))
        return "paused"
    except errors.ProviderBusy as exc:
        delay = wait_s(exc.retry_after_s)
        _defer(deps, job, claimed, delay)
        metrics.add_metric(name="RateLimitWaits", unit="Count", value=1)
        logger.warning("waiting for the model provider", extra=_log(claimed, cause=str(exc), wait_s=delay))
        return "waiting"
    except errors.Gone:
        # Erased while this worker wrote: nothing it wrote is kept, nothing is sent.
        logger.info("the reckoning is no longer there to finish: stopped", extra=_log(claimed))
        return "stopped"
    except errors.Superseded as exc:
        # A refund, an operator or another worker changed it: whoever did owns it now. Nothing more is written.
        logger.error("the reckoning changed under its worker, which stops", extra=_log(claimed, step=str(exc)))
        metrics.add_metric(name="GenerationSuperseded", unit="Count", value=1)
        return "superseded"
    except errors.PermanentFailure as exc:
        _fail(deps.database, claimed, f"permanent: {exc}", exc.kind)
        return "failed"
    except Exception as exc:
        if delivery.final:
            _give_up(deps.database, reckoning.id, claimed, exc)
        else:
            with deps.database.transaction() as conn:
                reckonings.release_lease(conn, reckoning.id, claimed.attempt, delivery.retry_in_s)
        raise


def _defer(deps: Dependencies, job: GenerateJob, claimed: Claim, delay_s: int) -> None:
    """Queue the job again, due in `delay_s`: a new message, so waiting (a spend pause, a provider's rate limit)
    never counts towards the queue's receive limit (the DLQ); this one is then done. The lease ends when the new
    message is due, so the sweeper leaves the reckoning alone until then (and re-enqueues it if that message is
    lost)."""
    with deps.database.transaction() as conn:
        reckonings.release_lease(conn, claimed.reckoning_id, claimed.attempt, delay_s)
    if deps.queue.send({"0": wire(job)}, delay_s=delay_s):
        raise errors.TransientFailure("the waiting job could not be queued again")


def wait_s(retry_after_s: float) -> int:
    """How long a job waits for the provider: what it asked for, plus up to a fifth more so the jobs it turned
    away do not all come back at once, within SQS's delay (1 to 900 s)."""
    jittered = retry_after_s * (1 + _jitter.uniform(0, 0.2))
    return max(MIN_WAIT_S, min(MAX_WAIT_S, math.ceil(jittered)))


def _run(deps: Dependencies, reckoning: Reckoning, claim: Claim, deadline: float | None) -> Outcome:
    database = deps.database
    with database.transaction() as conn:
        report = reports.current(conn, reckoning.id)
    if report is None or not report.released:  # else a redelivery after the report was saved
        questionnaire = deps.questionnaires.version(reckoning.questionnaire_version)
        submission = Submission.of(reckoning.name, reckoning.answers, questionnaire)
        draft, result = _write_until_valid(deps, reckoning.id, submission, deadline)
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
    emails.announce_report(deps, reckoning, report, key, check=lambda conn: _hold(conn, claim, "email"))
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
    deps: Dependencies, reckoning_id: UUID, submission: Submission, deadline: float | None
) -> tuple[Draft, ValidationResult]:
    database, policy = deps.database, deps.policy
    best: tuple[Draft, ValidationResult] | None = None
    feedback: list[str] = []
    for _ in range(policy.max_generation_attempts):
        if best is not None and deadline is not None and time.monotonic() + policy.model_call_budget_s > deadline:
            break  # no time for another attempt: keep the best so far
        costs.check_spend(database, policy.daily_spend_limit_usd)  # before every call: a runaway stops at the limit
        draft = _write(database, reckoning_id, submission, deps, feedback)
        result = _check(deps, reckoning_id, submission, draft)
        metrics.add_metric(name="GenerationAttempt", unit="Count", value=1)
        count_by("GateVerdict", "Verdict", "released" if result.released else "held")
        if best is None or result.confidence > best[1].confidence:
            best = (draft, result)
        if result.released:
            break
        feedback = result.feedback()
    assert best is not None  # noqa: S101 - max_generation_attempts >= 1 by settings validation
    return best


def _check(deps: Dependencies, reckoning_id: UUID, submission: Submission, draft: Draft) -> ValidationResult:
    """The quality gate on one draft; the draft's call and the judge's are recorded with their cost (they count
    towards the spend limit). A judge that fails is a transient failure: nothing is released unjudged."""
    database, policy = deps.database, deps.policy
    meta = GenerationMeta(stop_reason=draft.stop_reason, model=draft.model)
    try:
        costs.check_spend(database, policy.daily_spend_limit_usd)  # the judge's call is a model call too
        result = deps.validate(draft.content, submission, meta, policy.confidence_threshold, deps.judge)
    except Exception as exc:
        _record(database, reckoning_id, _attempt(draft, error_class=type(exc).__name__))
        raise
    _record(database, reckoning_id, _attempt(draft, result))
    verdict = result.verdict
    if verdict is not None and verdict.input_tokens:  # a model judged it (the offline judge costs nothing)
        read, wrote = verdict.cache_read_input_tokens or 0, verdict.cache_creation_input_tokens or 0
        judged = costs.cost_usd(
            verdict.model, verdict.input_tokens, verdict.output_tokens, datetime.now(UTC), read, wrote
        )
        judge_call = Attempt(
            verdict.model, None, verdict.input_tokens, verdict.output_tokens, cost_usd=judged,
            cache_read_tokens=read, cache_write_tokens=wrote,
        )  # fmt: skip
        _record(database, reckoning_id, judge_call)
    if verdict is not None and verdict.dropped_quotes:
        metrics.add_metric(name="JudgeQuotesDropped", unit="Count", value=verdict.dropped_quotes)
    return result


def _attempt(draft: Draft, result: ValidationResult | None = None, error_class: str | None = None) -> Attempt:
    return Attempt(
        model=draft.model,
        latency_ms=draft.latency_ms,
        input_tokens=draft.input_tokens,
        output_tokens=draft.output_tokens,
        stop_reason=draft.stop_reason,
        confidence=None if result is None else round(result.confidence, 3),
        passed=None if result is None else result.released,
        error_class=error_class,
        cost_usd=costs.cost_usd(
            draft.model,
            draft.input_tokens,
            draft.output_tokens,
            datetime.now(UTC),
            draft.cache_read_tokens,
            draft.cache_write_tokens,
        ),
        cache_read_tokens=draft.cache_read_tokens,
        cache_write_tokens=draft.cache_write_tokens,
    )


def _record(database: db.Database, reckoning_id: UUID, attempt: Attempt) -> None:
    with database.transaction() as conn:
        reports.record_attempt(conn, reckoning_id, attempt)


def _write(
    database: db.Database, reckoning_id: UUID, submission: Submission, deps: Dependencies, feedback: list[str]
) -> Draft:
    writer = deps.writer
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
