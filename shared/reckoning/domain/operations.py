"""What the engineer on call can do: replay the DLQ, regenerate, resend a link, read a timeline.

Timelines print ids, statuses, amounts and error classes only: never emails, names, answers or report text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import UUID

from pydantic import ValidationError

from reckoning import db, errors
from reckoning.db import outbox, reckonings, reports, timeline
from reckoning.domain import emails
from reckoning.domain import outbox as relay
from reckoning.models.job import GenerateJob, read_job
from reckoning.models.status import Status
from reckoning.providers.email import Mailer
from reckoning.providers.queue import Queue


def regenerate(database: db.Database, queue: Queue, reckoning_id: UUID) -> None:
    """Withdraw the current report and queue a new generation (the next version replaces it)."""
    with database.transaction() as conn:
        if not reckonings.reopen(conn, reckoning_id, "regenerate requested by an operator"):
            # A worker with a live lease would release its version and email it too: two versions, two emails.
            raise errors.Conflict(
                "only a paid, ready, failed or held reckoning can be regenerated, or a generating one whose"
                " worker's lease has run out (none is generating it now)"
            )
        reports.withdraw(conn, reckoning_id)
        job = GenerateJob(reckoning_id=reckoning_id, reason="retry")
        outbox.enqueue(conn, job, f"retry:{reckoning_id}:{time.time_ns()}")
    relay.drain(database, queue)


def resend_link(database: db.Database, mailer: Mailer, reckoning_id: UUID) -> str:
    """Mint a fresh link to a ready report and email it again; returns the provider's message id."""
    with database.transaction() as conn:
        reckoning = reckonings.by_id(conn, reckoning_id)
        report = reports.released(conn, reckoning_id)
    if reckoning is None or report is None or reckoning.status != Status.READY:
        raise errors.Conflict("the reckoning has no released report")
    key = f"report-ready/{reckoning_id}/resend/{time.time_ns()}"
    provider_id = emails.announce_report(database, mailer, reckoning, report, key)
    if provider_id is None:
        raise errors.PermanentFailure("the email provider refused the email (see the log)")
    return provider_id


def timeline_of(database: db.Database, reckoning_id: UUID) -> list[timeline.Entry]:
    """Also of an erased reckoning: its story holds nothing personal."""
    with database.transaction() as conn:
        entries = timeline.of(conn, reckoning_id)
    if not entries:  # every reckoning has at least its first status
        raise errors.NotFound("no such reckoning")
    return entries


@dataclass(frozen=True, slots=True)
class Replayed:
    moved: int
    reopened: int


def replay_dead_letters(database: db.Database, dlq_url: str, queue_url: str, limit: int = 100) -> Replayed:
    """Move messages from the dead-letter queue back to the report queue, reopening failed reckonings."""
    from reckoning.providers import aws

    sqs = aws.sqs()
    moved = reopened = 0
    while moved < limit:
        batch = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not batch:
            break
        for message in batch:
            reopened += _reopen_failed(database, message.get("Body", ""))
            sqs.send_message(QueueUrl=queue_url, MessageBody=message.get("Body", ""))
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return Replayed(moved, reopened)


def _reopen_failed(database: db.Database, body: str) -> int:
    try:
        job = read_job(body)
    except ValidationError:
        return 0
    with database.transaction() as conn:
        return int(reckonings.reopen(conn, job.reckoning_id, "replayed from the dead-letter queue", only_failed=True))
