"""The worker with the real Anthropic SDK against the local Messages API stub: attempts and final states."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from reckoning import config, errors
from reckoning.dependencies import Dependencies
from reckoning.models.job import GenerateJob
from reckoning.providers import aws
from reckoning.providers.claude import ClaudeWriter
from reckoning.providers.email import OutboxMailer
from tests.helpers import Env, generate_report, invoke, submission, with_fakes
from tests.stubs import anthropic as stubs
from tests.stubs.anthropic import AnthropicStub


@pytest.fixture
def stub(env: Env) -> Iterator[AnthropicStub]:
    server = AnthropicStub().start()
    env(ANTHROPIC_BASE_URL=server.url, ANTHROPIC_MAX_RETRIES="1", ANTHROPIC_TIMEOUT_S="0.5")
    yield server
    server.stop()


@pytest.fixture
def deps(database_url: str, stub: AnthropicStub, report_bucket: str, report_queue: str, tmp_path: Path) -> Dependencies:
    return with_fakes(ClaudeWriter(), OutboxMailer(tmp_path))


def paid(pg: psycopg.Connection[Any]) -> UUID:
    assert invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())[0] == 201
    row = pg.execute("UPDATE reckonings SET status = 'paid' RETURNING id").fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def attempts(pg: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    rows = pg.execute(  # the writer's calls (the judge's are priced beside them: test_costs)
        "SELECT stop_reason, passed, error_class FROM generation_attempts WHERE model <> 'claude-haiku-5-5'"
        " ORDER BY attempt"
    )
    return [(r["stop_reason"], r["passed"], r["error_class"]) for r in rows]


def status(pg: psycopg.Connection[Any]) -> str:
    row = pg.execute("SELECT status FROM reckonings").fetchone()
    assert row is not None
    return str(row["status"])


def run(rid: UUID, deps: Dependencies, final: bool = False) -> str:
    return generate_report(GenerateJob(reckoning_id=rid), deps, final_receive=final)


def test_a_good_answer_is_released_with_its_usage_recorded(
    database_url: str, deps: Dependencies, stub: AnthropicStub, pg: psycopg.Connection[Any]
) -> None:
    rid = paid(pg)
    assert run(rid, deps) == "ready"
    assert attempts(pg) == [("tool_use", True, None)]
    row = pg.execute("SELECT input_tokens, output_tokens, latency_ms FROM generation_attempts").fetchone()
    assert row is not None and row["input_tokens"] and row["output_tokens"] and row["latency_ms"] is not None


def test_429_with_retry_after_is_retried_by_the_sdk_and_succeeds(
    database_url: str, deps: Dependencies, stub: AnthropicStub, pg: psycopg.Connection[Any]
) -> None:
    stub.then(stubs.rate_limited(retry_after=0.01))
    assert run(paid(pg), deps) == "ready"
    assert len(stub.requests) == 2


def test_server_errors_leave_it_to_sqs(
    database_url: str, deps: Dependencies, stub: AnthropicStub, pg: psycopg.Connection[Any]
) -> None:
    stub.always(stubs.server_error())
    rid = paid(pg)
    with pytest.raises(errors.TransientFailure):
        run(rid, deps)
    assert status(pg) == "generating"  # lease released: the redelivery claims it
    assert attempts(pg) == [(None, None, "TransientFailure")]
    with pytest.raises(errors.TransientFailure):
        run(rid, deps, final=True)
    assert status(pg) == "failed"


def test_a_timeout_is_transient(
    database_url: str, deps: Dependencies, stub: AnthropicStub, pg: psycopg.Connection[Any]
) -> None:
    stub.always(stubs.slow(2.0))
    with pytest.raises(errors.TransientFailure):
        run(paid(pg), deps)


def test_a_spend_limit_fails_at_once_without_a_retry_loop(
    database_url: str, deps: Dependencies, stub: AnthropicStub, pg: psycopg.Connection[Any]
) -> None:
    stub.always(stubs.spend_limit())
    assert run(paid(pg), deps) == "failed"
    assert len(stub.requests) == 1
    assert attempts(pg) == [(None, None, "PermanentFailure")]


def test_a_truncated_answer_is_regenerated(
    database_url: str, deps: Dependencies, stub: AnthropicStub, pg: psycopg.Connection[Any]
) -> None:
    stub.then(stubs.truncated())
    assert run(paid(pg), deps) == "ready"
    assert [a[:2] for a in attempts(pg)] == [("max_tokens", False), ("tool_use", True)]


def test_the_default_model_is_not_deprecated_by_the_installed_sdk() -> None:
    from anthropic._data.deprecated_models import DEPRECATED_MODELS

    assert config.Settings().anthropic_model not in DEPRECATED_MODELS


@pytest.mark.parametrize("reply", [stubs.overloaded, stubs.rate_limited], ids=["529", "429"])
def test_a_busy_provider_makes_the_job_wait_not_fail(
    reply: Any,
    database_url: str,
    deps: Dependencies,
    stub: AnthropicStub,
    report_queue: str,
    pg: psycopg.Connection[Any],
) -> None:
    stub.always(reply(retry_after=45))
    rid = paid(pg)

    # Even on the queue's last receive: waiting spends no receive, and never fails the order
    assert run(rid, deps, final=True) == "waiting"

    assert status(pg) == "generating"
    lease = pg.execute("SELECT lease_expires_at - now() AS left FROM reckonings").fetchone()
    assert lease is not None and 44 < lease["left"].total_seconds() <= 55  # due with the re-sent job
    assert aws.sqs().receive_message(QueueUrl=report_queue).get("Messages", []) == []  # due when the provider said
    attributes = aws.sqs().get_queue_attributes(
        QueueUrl=report_queue, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"
