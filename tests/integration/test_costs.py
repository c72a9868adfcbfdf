"""What reports cost, priced from the Messages API stub's usage numbers, and the daily spend limit."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from reckoning import cli, db
from reckoning.dependencies import Dependencies
from reckoning.domain.services import costs, recovery
from reckoning.models.job import GenerateJob
from reckoning.providers import aws
from reckoning.providers.claude import ClaudeWriter
from reckoning.providers.email import OutboxMailer
from reckoning_local.events import LambdaContext, sqs_event
from tests.helpers import Env, generate_report, invoke, load_function, submission, with_fakes
from tests.stubs.anthropic import AnthropicStub

MODEL = "claude-sonnet-5-5"


@pytest.fixture
def stub(env: Env) -> Iterator[AnthropicStub]:
    server = AnthropicStub().start()
    env(ANTHROPIC_BASE_URL=server.url, ANTHROPIC_MODEL=MODEL, ANTHROPIC_TIMEOUT_S="5", SPEND_LIMIT_RECHECK_S="1")
    yield server
    server.stop()


@pytest.fixture
def deps(database_url: str, stub: AnthropicStub, report_bucket: str, report_queue: str, tmp_path: Path) -> Dependencies:
    return with_fakes(ClaudeWriter(), OutboxMailer(tmp_path))


def paid(pg: psycopg.Connection[Any], name: str = "Ada") -> UUID:
    assert invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission(name=name))[0] == 201
    row = pg.execute("UPDATE reckonings SET status = 'paid' WHERE status = 'awaiting_payment' RETURNING id").fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def test_a_call_is_priced_by_the_entry_in_effect_for_its_model() -> None:
    day = date(2026, 11, 29)
    price = costs.price_of(MODEL, day)
    assert price is not None and (price.input_per_mtok, price.output_per_mtok) == (Decimal(2), Decimal(10))
    assert costs.price_of(f"{MODEL}-20261001", day) == price  # a dated snapshot of the model
    assert costs.price_of("claude-sonnet-5-55", day) is None  # another model, not a snapshot
    assert costs.price_of(MODEL, date(2026, 8, 31)) is None  # before its price applies
    at = datetime(2026, 11, 29, 12, tzinfo=UTC)
    assert costs.cost_usd(MODEL, 1_000, 2_000, at) == Decimal("0.022000")  # 1000 x $2 + 2000 x $10, per million
    assert costs.cost_usd(MODEL, None, None, at) is None
    assert costs.cost_usd("offline-template", 10, 10, at) is None


def test_every_attempt_and_the_report_carry_their_cost_from_the_stubs_usage(
    database_url: str, deps: Dependencies, stub: AnthropicStub, pg: psycopg.Connection[Any]
) -> None:
    rid = paid(pg)
    assert generate_report(GenerateJob(reckoning_id=rid), deps) == "ready"

    usage = stub.requests[-1]
    row, judged = pg.execute(
        "SELECT model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd"
        " FROM generation_attempts ORDER BY attempt"
    ).fetchall()
    assert row["model"] == MODEL
    # The stub's usage numbers: the cached prefix (tools, system) written to the cache, the rest uncached input
    assert row["input_tokens"] + row["cache_write_tokens"] == len(usage.body) // 4
    assert row["cache_write_tokens"] > 0 and row["cache_read_tokens"] == 0
    writes = Decimal(row["cache_write_tokens"]) * Decimal("2.5")  # 1.25 x the input price
    expected = (Decimal(row["input_tokens"]) * 2 + Decimal(row["output_tokens"]) * 10 + writes) / 1_000_000
    assert row["cost_usd"] == expected.quantize(Decimal("0.000001"))
    # The judge's call is priced too (claude-haiku-5-5: $0.10 and $0.50 per million), and counts in the report
    assert judged["model"] == "claude-haiku-5-5"
    assert 0 < judged["input_tokens"] <= len(stub.judge_requests[-1].body) // 4  # the rubric may be cached
    judge_cost = (
        Decimal(judged["input_tokens"]) * Decimal("0.10")
        + Decimal(judged["output_tokens"]) / 2
        + Decimal(judged["cache_write_tokens"]) * Decimal("0.125")
        + Decimal(judged["cache_read_tokens"]) * Decimal("0.01")
    ) / 1_000_000
    assert judged["cost_usd"] == judge_cost.quantize(Decimal("0.000001"))
    report = pg.execute("SELECT cost_usd FROM reports").fetchone()
    assert report == {"cost_usd": row["cost_usd"] + judged["cost_usd"]}


def test_reckoning_costs_prints_count_total_and_percentiles(
    database_url: str, deps: Dependencies, pg: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("Ada", "Grace", "Katherine"):
        assert generate_report(GenerateJob(reckoning_id=paid(pg, name)), deps) == "ready"
    costs_of = sorted(float(r["cost_usd"]) for r in pg.execute("SELECT cost_usd FROM reports"))

    assert cli.main(["costs", "--since", "1d"]) == 0

    out = capsys.readouterr().out
    per_report = next(line for line in out.splitlines() if line.startswith("per report")).split()
    assert per_report[2] == "3"
    assert per_report[3] == f"${sum(costs_of):.6f}"
    assert per_report[4] == f"${costs_of[1]:.6f}"  # the median of three
    assert any(line.startswith(f"per call: {MODEL}") for line in out.splitlines())
    assert cli.main(["costs", "--since", "0d"]) == 0
    assert "per report" in capsys.readouterr().out


def test_the_spend_limit_pauses_generation_and_it_resumes_when_the_limit_allows(
    database_url: str, deps: Dependencies, report_queue: str, pg: psycopg.Connection[Any], env: Env
) -> None:
    first = paid(pg, "Ada")
    assert generate_report(GenerateJob(reckoning_id=first), deps) == "ready"
    spent = pg.execute("SELECT cost_usd FROM reports").fetchone()
    assert spent is not None and spent["cost_usd"] > 0
    env(DAILY_SPEND_LIMIT_USD=str(spent["cost_usd"]))  # today's calls have cost the limit exactly
    second = paid(pg, "Grace")
    app = load_function("generate")
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "MD5OfBody": "x",
        "Attributes": {"ApproximateReceiveCount": "4"},
    }
    event = sqs_event([{**message, "Body": json.dumps({"kind": "generate", "reckoningId": str(second)})}], ARN)

    result = app.lambda_handler(event, LambdaContext(function_name="generate", timeout_s=900))

    assert result == {"batchItemFailures": []}  # not failed: the message is done, its receive count spent on nothing
    assert pg.execute("SELECT status FROM reckonings WHERE id = %s", (second,)).fetchone() == {"status": "generating"}
    assert pg.execute(
        "SELECT count(*) AS n FROM generation_attempts WHERE reckoning_id = %s", (second,)
    ).fetchone() == {"n": 0}
    again = aws.sqs().receive_message(QueueUrl=report_queue, AttributeNames=["All"], WaitTimeSeconds=3)["Messages"]
    assert [json.loads(m["Body"])["reckoningId"] for m in again] == [str(second)]  # queued again, a new message
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "1"

    env(DAILY_SPEND_LIMIT_USD=str(spent["cost_usd"] * 3))  # on-call raised the limit (or a new day began)
    result = app.lambda_handler(
        sqs_event([dict(m) for m in again], ARN), LambdaContext(function_name="generate", timeout_s=900)
    )

    assert result == {"batchItemFailures": []}
    assert pg.execute("SELECT status FROM reckonings WHERE id = %s", (second,)).fetchone() == {"status": "ready"}


ARN = "arn:aws:sqs:eu-west-1:123456789012:reckoning-reports-test"


def test_a_paused_reckoning_is_left_to_its_delayed_job_and_not_re_enqueued_by_the_sweeper(
    deps: Dependencies, report_queue: str, pg: psycopg.Connection[Any], env: Env
) -> None:
    env(DAILY_SPEND_LIMIT_USD="0", SPEND_LIMIT_RECHECK_S="60", GENERATION_STALE_AFTER_S="1")
    reckoning_id = paid(pg)

    assert generate_report(GenerateJob(reckoning_id=reckoning_id), deps) == "paused"

    time.sleep(1.2)  # longer than the stale period: only the lease, ending when the job is due, holds the sweeper
    assert recovery.requeue_stale(db.database(), deps.queue, with_fakes().policy.generation_stale_after_s) == 0
    lease = pg.execute("SELECT lease_expires_at - now() AS left FROM reckonings").fetchone()
    assert lease is not None and 55 < lease["left"].total_seconds() <= 60
    assert pg.execute("SELECT count(*) AS n FROM generation_attempts").fetchone() == {"n": 0}  # no model call
