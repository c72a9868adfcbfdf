"""The report queue (SQS)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from reckoning import errors
from reckoning.config import settings
from reckoning.providers import aws

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef


class Queue(Protocol):
    def send(self, messages: Mapping[str, dict[str, Any]], delay_s: int = 0) -> set[str]:
        """Send messages keyed by an id of the caller's, delivered after `delay_s` (at most 900 s); return the
        ids that failed."""
        ...


class SqsQueue:
    def send(self, messages: Mapping[str, dict[str, Any]], delay_s: int = 0) -> set[str]:
        url = settings().report_queue_url
        if not url:
            raise errors.TransientFailure("REPORT_QUEUE_URL is not set")
        from botocore.exceptions import BotoCoreError, ClientError

        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": key, "MessageBody": json.dumps(body), "DelaySeconds": delay_s} for key, body in messages.items()
        ]
        failed: set[str] = set()
        try:
            for start in range(0, len(entries), 10):  # SQS batches hold at most 10 entries
                response = aws.sqs().send_message_batch(QueueUrl=url, Entries=entries[start : start + 10])
                failed.update(item["Id"] for item in response.get("Failed", []))
        except (BotoCoreError, ClientError) as exc:
            raise errors.TransientFailure(type(exc).__name__) from exc
        return failed


def hand_back(receipt_handle: str, seconds: int) -> None:
    """Make a received message visible again in `seconds` (counted from now; SQS allows 0 to 12 hours)."""
    url = settings().report_queue_url
    if not url:
        raise errors.TransientFailure("REPORT_QUEUE_URL is not set")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        aws.sqs().change_message_visibility(QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)
    except (BotoCoreError, ClientError) as exc:
        raise errors.TransientFailure(type(exc).__name__) from exc
