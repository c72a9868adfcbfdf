"""What Lambda's event source mappings and schedules do, as threads.

`SqsPoller` long-polls a queue (as many pollers at once as the source's
`MaximumConcurrency`), hands batches of up to `BatchSize` to the function as SQS
events, and deletes what succeeded: with `ReportBatchItemFailures`, every record not
listed in `batchItemFailures`; without it, the whole batch or nothing. Records
left undeleted reappear after the queue's visibility timeout, and moto moves
them to the dead-letter queue after `maxReceiveCount` receives.

`ScheduleRunner` invokes a function with EventBridge Scheduler's event at its `rate(...)`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from reckoning_local.events import scheduled_event, sqs_event
from reckoning_local.template import Queue, Schedule, SqsSource

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger("reckoning_local")

Invoke = Callable[[Any], Any]

_MAX_RECEIVE = 10  # SQS returns at most ten messages per ReceiveMessage


class Background:
    """Daemon threads (`threads` of them) each running `_run` until asked to stop."""

    def __init__(self, name: str, threads: int = 1) -> None:
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"{name}-{n}" if threads > 1 else name, daemon=True)
            for n in range(threads)
        ]

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Ask the threads to stop after their current cycle (call `join` to wait)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        for thread in self._threads:
            thread.join(timeout)


class SqsPoller(Background):
    """One SQS event source mapping: receive a batch, invoke, delete the successes; as many pollers at once as
    `ScalingConfig.MaximumConcurrency` allows (one without it), so at most that many invocations run at once."""

    def __init__(
        self,
        function_id: str,
        source: SqsSource,
        queue: Queue,
        sqs: SQSClient,
        invoke: Invoke,
        wait_s: int = 1,
    ) -> None:
        self.function_id = function_id
        self.source = source
        self.queue = queue
        self._sqs = sqs
        self._invoke = invoke
        self._wait_s = wait_s  # long-poll wait: also how long stop() may take
        super().__init__(f"sqs-{function_id}-{queue.logical_id}", threads=source.maximum_concurrency or 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                # Keep polling as Lambda does; an endpoint hiccup must not end the mapping.
                log.exception("polling %s for %s failed", self.queue.logical_id, self.function_id)
                self._stop.wait(1.0)

    def poll_once(self) -> int:
        """Receive one batch (what one long poll returns, up to the batch size) and deliver it."""
        messages = self._sqs.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=min(_MAX_RECEIVE, self.source.batch_size),
            WaitTimeSeconds=self._wait_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if messages:
            self.deliver(messages)
        return len(messages)

    def deliver(self, messages: list[MessageTypeDef]) -> None:
        event = sqs_event([dict(m) for m in messages], self.queue.arn)
        try:
            response = self._invoke(event)
        except Exception:
            log.exception("%s failed on a batch of %d; all will be retried", self.function_id, len(messages))
            return
        done = deletable(messages, response, partial=self.source.report_batch_item_failures)
        self._delete(done)
        failed = len(messages) - len(done)
        if failed:
            log.info("%s: %d of %d records failed and will be retried", self.function_id, failed, len(messages))

    def _delete(self, messages: list[MessageTypeDef]) -> None:
        for start in range(0, len(messages), _MAX_RECEIVE):
            chunk = messages[start : start + _MAX_RECEIVE]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            result = self._sqs.delete_message_batch(QueueUrl=self.queue.url, Entries=entries)  # type: ignore[arg-type]
            for failure in result.get("Failed", []):
                log.warning("could not delete a message from %s: %s", self.queue.logical_id, failure.get("Code"))


def deletable(messages: list[MessageTypeDef], response: Any, *, partial: bool) -> list[MessageTypeDef]:
    """The messages a handler's response lets the mapping delete.

    Without ReportBatchItemFailures a returned batch succeeded whole. With it,
    the records listed in `batchItemFailures` stay; an empty or unknown
    identifier fails the whole batch, as Lambda does.
    """
    failures = response.get("batchItemFailures") if partial and isinstance(response, Mapping) else None
    if not failures:
        return messages
    ids = {m["MessageId"] for m in messages}
    failed = {f.get("itemIdentifier") if isinstance(f, Mapping) else None for f in failures}
    if not failed <= ids:
        log.warning("invalid batchItemFailures (empty or unknown identifier): the whole batch is retried")
        return []
    return [m for m in messages if m["MessageId"] not in failed]


class ScheduleRunner(Background):
    """Invokes a function every `period_s` seconds with its schedule's event."""

    def __init__(
        self, function_id: str, schedule: Schedule, invoke: Invoke, *, region: str, period_s: float | None = None
    ) -> None:
        if schedule.period_s is None:
            raise ValueError(f"{function_id}.{schedule.event_name}: only rate(...) schedules run locally")
        self.function_id = function_id
        self.schedule = schedule
        self.period_s = period_s or schedule.period_s  # `period_s`: sooner than its rate (tests)
        self._invoke = invoke
        self._region = region
        super().__init__(f"schedule-{function_id}")

    def _run(self) -> None:
        name = f"{self.function_id}-{self.schedule.event_name}"
        while not self._stop.wait(self.period_s):
            try:
                self._invoke(scheduled_event(name, self._region))
            except Exception:
                log.exception("scheduled run of %s failed", self.function_id)
