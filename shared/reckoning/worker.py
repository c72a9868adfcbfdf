"""The generate function's side of SQS: which receive is the last, when a failed job comes back, and a batch
processor that logs each failed record (by class name, never its body) and hands it back on that schedule."""

from __future__ import annotations

import math

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from reckoning.config import settings
from reckoning.observability import logger, metrics
from reckoning.providers import queue

# SQS allows up to 12 hours; a paying customer should not wait more than an hour for the next try.
MAX_RETRY_DELAY_S = 3600


def receives(record: SQSRecord) -> int:
    return int(record.attributes.approximate_receive_count)


def last_receive(record: SQSRecord) -> bool:
    """The queue sends the message to the DLQ instead of delivering it again (the same maxReceiveCount)."""
    return receives(record) >= settings().queue_max_receive_count


def retry_delay_s(receive: int) -> int:
    """Seconds until a job that failed on its `receive`-th receive comes back: base x 4^(receive - 1), at most
    an hour (60, 240, 960, 3600 s by default). No jitter: retries keep the spread the orders arrived with, and
    the concurrency cap bounds how many run at once."""
    return min(MAX_RETRY_DELAY_S, math.ceil(settings().generation_retry_base_s * 4.0 ** (receive - 1)))


class JobProcessor(BatchProcessor):
    """Powertools' SQS batch processor, saying which records failed and when each comes back."""

    def __init__(self) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def failure_handler(self, record: SQSRecord, exception: ExceptionInfo) -> FailureResponse:
        error_class = exception[0].__name__ if exception[0] else "unknown"
        final = last_receive(record)
        # Now rather than after the queue's visibility timeout: on the last receive, straight to the DLQ.
        delay = 0 if final else retry_delay_s(receives(record))
        log = {"message_id": record.message_id, "receive": receives(record), "error_class": error_class}
        logger.warning("report job failed", extra={**log, "retry_in_s": None if final else delay})
        metrics.add_metric(name="JobFailed", unit="Count", value=1)
        try:
            queue.hand_back(record.receipt_handle, delay)
        except Exception as exc:  # it still comes back, after the queue's visibility timeout
            logger.warning("could not hand the job back early", extra={**log, "cause": type(exc).__name__})
        return super().failure_handler(record, exception)
