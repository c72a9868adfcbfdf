"""The generate function on a real (moto) queue: one job per invocation, failed jobs handed back on a backoff,
the last receive marks the reckoning failed even before a claim, and failures are logged by class name only."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from reckoning import errors
from reckoning.dependencies import Dependencies
from reckoning.models.submission import Submission
from reckoning.observability import logger
from reckoning.ports import Draft
from reckoning.providers import aws
from reckoning.providers.email import OutboxMailer
from reckoning_local.events import LambdaContext, sqs_event
from tests.helpers import Env, invoke, load_function, submission, with_fakes

PRIVATE = "ada.private@example.com"  # what a provider's error message might quote


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What Powertools' logger writes during the test (its handler keeps the stream it was created with)."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    lines = io.StringIO()
    previous = handler.setStream(lines)
    yield lines
    handler.setStream(previous)


@dataclass
class Failing:
    """A writer whose provider is down, and whose error quotes the request (as SDK messages can)."""

    model: str = "failing"

    def write(self, sub: Submission, feedback: Sequence[str] = ()) -> Draft:
        raise errors.TransientFailure(f"overloaded while writing for {PRIVATE}")


@pytest.fixture
def queue(report_queue: str, env: Env) -> str:
    """The report queue as production has it (90-minute visibility), three receives, a 0.5 s retry base."""
    aws.sqs().set_queue_attributes(QueueUrl=report_queue, Attributes={"VisibilityTimeout": "5400"})
    env(QUEUE_MAX_RECEIVE_COUNT="3", GENERATION_RETRY_BASE_S="0.5")
    rewrite = aws.sqs().get_queue_attributes(QueueUrl=report_queue, AttributeNames=["RedrivePolicy"])
    policy = json.loads(rewrite["Attributes"]["RedrivePolicy"])
    policy["maxReceiveCount"] = 3
    aws.sqs().set_queue_attributes(QueueUrl=report_queue, Attributes={"RedrivePolicy": json.dumps(policy)})
    return report_queue


def paid(pg: psycopg.Connection[Any]) -> UUID:
    assert invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())[0] == 201
    row = pg.execute("UPDATE reckonings SET status = 'paid' RETURNING id").fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def receive(queue_url: str) -> list[dict[str, Any]]:
    answer = aws.sqs().receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageSystemAttributeNames=["All"]
    )
    return [dict(m) for m in answer.get("Messages", [])]


def wait_for_message(queue_url: str, timeout_s: float = 10) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        messages = receive(queue_url)
        if messages:
            return messages[0], time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError("the message did not come back")


def run_generate(app: Any, message: dict[str, Any], timeout_s: int = 900, deps: Dependencies | None = None) -> Any:
    arn = aws.sqs().get_queue_attributes(QueueUrl=message["_queue"], AttributeNames=["QueueArn"])
    event = sqs_event([{k: v for k, v in message.items() if k != "_queue"}], arn["Attributes"]["QueueArn"])
    return app.lambda_handler(event, LambdaContext(function_name="generate", timeout_s=timeout_s), deps=deps)


def test_a_failed_job_comes_back_after_the_backoff_and_the_last_receive_fails_it_into_the_dlq(
    database_url: str,
    queue: str,
    report_bucket: str,
    pg: psycopg.Connection[Any],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    log_lines: io.StringIO,
) -> None:
    rid = paid(pg)
    app = load_function("generate")
    failing = with_fakes(Failing(), OutboxMailer(tmp_path))
    aws.sqs().send_message(QueueUrl=queue, MessageBody=json.dumps({"reckoningId": str(rid), "reason": "payment"}))
    message, _ = wait_for_message(queue)
    waited: list[float] = []
    for receive_count in (1, 2):
        assert message["Attributes"]["ApproximateReceiveCount"] == str(receive_count)
        result = run_generate(app, {**message, "_queue": queue}, deps=failing)
        assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
        assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "generating"}
        message, after = wait_for_message(queue)
        waited.append(after)
    assert 0.8 <= waited[0] < 3 and 1.8 <= waited[1] < 4  # the backoff, not the queue's 90 minutes
    # The last receive: failed (with a reason), and the message goes to the DLQ at once
    result = run_generate(app, {**message, "_queue": queue}, deps=failing)
    assert result["batchItemFailures"]
    row = pg.execute("SELECT status, status_reason FROM reckonings").fetchone()
    assert row is not None and row["status"] == "failed" and "last receive" in row["status_reason"]
    dlq = str(aws.sqs().get_queue_url(QueueName="reckoning-reports-dlq-test")["QueueUrl"])
    assert receive(queue) == []  # this receive moves it
    dead, _ = wait_for_message(dlq)
    assert json.loads(dead["Body"])["reckoningId"] == str(rid)
    assert "GenerationFailed" in capfd.readouterr().out  # the metric
    logged = log_lines.getvalue()
    assert logged.count('"report job failed"') == 3 and '"error_class":"TransientFailure"' in logged
    assert PRIVATE not in logged  # class names only: never an error's message
    with capfd.disabled():
        print(f"\nhanded back after {waited[0]:.2f} s and {waited[1]:.2f} s (asked: 1 s, 2 s; visibility 5400 s)")


@pytest.mark.parametrize("final", [False, True])
def test_a_job_bounced_before_its_claim_fails_the_reckoning_only_on_the_last_receive(
    final: bool, database_url: str, queue: str, pg: psycopg.Connection[Any], capfd: pytest.CaptureFixture[str]
) -> None:
    rid = paid(pg)
    aws.sqs().send_message(QueueUrl=queue, MessageBody=json.dumps({"reckoningId": str(rid), "reason": "payment"}))
    app = load_function("generate")
    for _ in range(3 if final else 1):
        message, _ = wait_for_message(queue)
        # An invocation with ten seconds left cannot fit a model call: bounced before the claim
        result = run_generate(app, {**message, "_queue": queue}, timeout_s=10)
        assert result["batchItemFailures"]
    expected = "failed" if final else "paid"
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": expected}
    assert ("GenerationFailed" in capfd.readouterr().out) == final


def test_a_provider_that_cannot_be_built_fails_the_order_on_the_last_receive_not_for_ever(
    database_url: str, queue: str, report_bucket: str, pg: psycopg.Connection[Any], env: Env
) -> None:
    # Secrets Manager refuses the Anthropic key: the writer is built on first use, inside the job's handling, so
    # the failure is the job's like any other, and the last receive marks the order failed before the DLQ.
    env(ANTHROPIC_API_KEY_ARN="arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing-AbCdEf")
    rid = paid(pg)
    app = load_function("generate")
    aws.sqs().send_message(QueueUrl=queue, MessageBody=json.dumps({"reckoningId": str(rid), "reason": "payment"}))
    message, _ = wait_for_message(queue)
    last = {**message, "Attributes": {**message["Attributes"], "ApproximateReceiveCount": "3"}, "_queue": queue}

    result = run_generate(app, last)

    assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    row = pg.execute("SELECT status, status_reason FROM reckonings").fetchone()
    assert row is not None and row["status"] == "failed" and "last receive" in row["status_reason"]
