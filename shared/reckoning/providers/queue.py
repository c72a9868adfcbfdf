"""The report queue and its dead-letter queue (SQS)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from reckoning import errors
from reckoning.observability import TRACE
from reckoning.ports import DeadLetter
from reckoning.providers import aws

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef


class SqsQueue:
    """`url` None: the function was deployed without the queue; every call is a TransientFailure saying so."""

    def __init__(self, url: str | None, dead_letter_url: str | None = None) -> None:
        self.url = url
        self.dead_letter_url = dead_letter_url

    @TRACE
    def send(self, messages: Mapping[str, dict[str, Any]], delay_s: int = 0) -> set[str]:
        url = _required(self.url, "REPORT_QUEUE_URL")
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": key, "MessageBody": json.dumps(body), "DelaySeconds": delay_s} for key, body in messages.items()
        ]
        failed: set[str] = set()
        with _transient():
            for start in range(0, len(entries), 10):  # SQS batches hold at most 10 entries
                response = aws.sqs().send_message_batch(QueueUrl=url, Entries=entries[start : start + 10])
                failed.update(item["Id"] for item in response.get("Failed", []))
        return failed

    @TRACE
    def hand_back(self, receipt_handle: str, seconds: int) -> None:
        """Make a received message visible again in `seconds` (counted from now; SQS allows 0 to 12 hours)."""
        url = _required(self.url, "REPORT_QUEUE_URL")
        with _transient():
            aws.sqs().change_message_visibility(QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)

    @TRACE
    def waiting(self) -> int:
        """SQS's ApproximateNumberOfMessages: visible messages (eventually consistent, about a minute behind)."""
        url = _required(self.url, "REPORT_QUEUE_URL")
        with _transient():
            found = aws.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(found.get("Attributes", {}).get("ApproximateNumberOfMessages", "0"))

    @TRACE
    def dead_letters(self, limit: int) -> list[DeadLetter]:
        url = _required(self.dead_letter_url, "REPORT_DLQ_URL")
        with _transient():
            found = aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=min(limit, 10), WaitTimeSeconds=1)
        return [DeadLetter(m.get("Body", ""), m["ReceiptHandle"]) for m in found.get("Messages", [])]

    @TRACE
    def requeue_dead_letter(self, letter: DeadLetter) -> None:
        url, dead = _required(self.url, "REPORT_QUEUE_URL"), _required(self.dead_letter_url, "REPORT_DLQ_URL")
        with _transient():
            aws.sqs().send_message(QueueUrl=url, MessageBody=letter.body)
            aws.sqs().delete_message(QueueUrl=dead, ReceiptHandle=letter.receipt_handle)


def _required(url: str | None, setting: str) -> str:
    if not url:
        raise errors.TransientFailure(f"{setting} is not set")
    return url


@contextmanager
def _transient() -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise errors.TransientFailure(type(exc).__name__) from exc
