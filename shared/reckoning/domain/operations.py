"""What the engineer on call can do: replay the DLQ, regenerate, resend a link, read a timeline.

Timelines print ids, statuses, amounts and error classes only: never emails, names, answers or report text.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from reckoning import db, errors
from reckoning.config import settings
from reckoning.db import operations, payments, reckonings, reports
from reckoning.domain import outbox, tokens
from reckoning.models.report import Report
from reckoning.providers.email import Mailer, compose_report_ready
from reckoning.providers.queue import Queue


def regenerate(database: db.Database, queue: Queue, reckoning_id: UUID) -> None:
    """Withdraw the current report and queue a new generation (the next version replaces it)."""
    with database.transaction() as conn:
        if not operations.reopen(conn, reckoning_id, "regenerate requested by an operator"):
            raise errors.Conflict("only paid, generating, ready, failed or held reckonings can be regenerated")
        reports.withdraw(conn, reckoning_id)
        key = f"retry:{reckoning_id}:{time.time_ns()}"
        payments.enqueue(conn, key, {"reckoningId": str(reckoning_id), "reason": "retry"})
    outbox.drain(database, queue)


def resend_link(database: db.Database, mailer: Mailer, reckoning_id: UUID) -> str:
    """Mint a fresh link to a ready report and email it again; returns the provider's message id."""
    ttl_days = settings().report_token_ttl_days
    with database.transaction() as conn:
        row = reckonings.by_id(conn, reckoning_id)
        report = reckonings.released_report(conn, reckoning_id) if row else None
        if row is None or report is None or row["status"] != "ready":
            raise errors.Conflict("the reckoning has no released report")
        key = f"report-ready/{reckoning_id}/resend/{time.time_ns()}"
        reports.insert_email(conn, reckoning_id, "report_ready", key)
        token = tokens.mint(conn, reckoning_id, "email_link", timedelta(days=ttl_days) if ttl_days else None)
    title = Report.model_validate(report["content"]).title
    provider_id = mailer.send(compose_report_ready(row["name"], tokens.report_link(token), title), row["email"], key)
    with database.transaction() as conn:
        reports.mark_email_sent(conn, key, provider_id)
    return provider_id


def timeline(database: db.Database, reckoning_id: UUID) -> list[dict[str, Any]]:
    with database.transaction() as conn:
        if reckonings.by_id(conn, reckoning_id) is None:
            raise errors.NotFound("no such reckoning")
        return operations.timeline(conn, reckoning_id)


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
        reckoning_id = UUID(json.loads(body)["reckoningId"])
    except (ValueError, KeyError, TypeError):
        return 0
    with database.transaction() as conn:
        row = reckonings.by_id(conn, reckoning_id)
        if row is None or row["status"] != "failed":
            return 0
        return int(operations.reopen(conn, reckoning_id, "replayed from the dead-letter queue"))
