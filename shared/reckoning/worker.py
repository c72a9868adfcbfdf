"""The generate function's side of SQS: a job's delivery read from its record, and a batch processor that logs
each failed record (by class name, never its body) and hands it back when its delivery says."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from reckoning.dependencies import Dependencies
from reckoning.domain.generate import Delivery
from reckoning.observability import logger, metrics

# Time kept back at the end of an invocation for saving, rendering and emailing.
MARGIN_S = 60


def delivery(record: SQSRecord, deps: Dependencies, remaining_ms: int | None = None) -> Delivery:
    """The record's delivery: its receive number, whether it is the last, when a failure comes back, and (given
    the invocation's remaining time) by when the work must be done."""
    deadline = None if remaining_ms is None else time.monotonic() + remaining_ms / 1000 - MARGIN_S
    return Delivery.of(int(record.attributes.approximate_receive_count), deps.policy, deadline, sent_at(record))


def sent_at(record: SQSRecord) -> datetime | None:
    """When the queue got the message (SentTimestamp, epoch milliseconds); None when the record does not say."""
    try:
        return datetime.fromtimestamp(int(record.attributes.sent_timestamp) / 1000, UTC)
    except (KeyError, TypeError, ValueError):
        return None


class JobProcessor(BatchProcessor):
    """Powertools' SQS batch processor, saying which records failed and when each comes back."""

    def __init__(self, deps: Callable[[], Dependencies]) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._deps = deps

    def failure_handler(self, record: SQSRecord, exception: ExceptionInfo) -> FailureResponse:
        error_class = exception[0].__name__ if exception[0] else "unknown"
        log: dict[str, object] = {"message_id": record.message_id, "error_class": error_class}
        metrics.add_metric(name="JobFailed", unit="Count", value=1)
        try:
            deps = self._deps()
            job = delivery(record, deps)
            log |= {"receive": job.receive, "retry_in_s": None if job.final else job.retry_in_s}
            logger.warning("report job failed", extra=log)
            # Now rather than after the queue's visibility timeout: on the last receive, straight to the DLQ.
            deps.queue.hand_back(record.receipt_handle, job.retry_in_s)
        except Exception as exc:  # it still comes back, after the queue's visibility timeout
            logger.warning("could not hand the job back early", extra={**log, "cause": type(exc).__name__})
        return super().failure_handler(record, exception)
