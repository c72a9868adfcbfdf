"""On-call commands against a real PostgreSQL and moto: `reckoning <command>`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from reckoning import cli, errors
from reckoning.domain import operations
from reckoning.models.job import GenerateJob, read_job
from reckoning.ports import OutgoingEmail
from reckoning.providers import aws
from reckoning.providers.email import OutboxMailer
from reckoning.providers.offline_writer import OfflineWriter
from reckoning_local.events import LambdaContext
from tests.helpers import Env, count, generate_report, handle_job, invoke, load_function, submission, with_fakes


@pytest.fixture
def outbox_dir(tmp_path: Path, env: Env) -> Path:
    env(LOCAL_OUTBOX_DIR=str(tmp_path / "outbox"))
    return tmp_path / "outbox"


def ready_reckoning(pg: psycopg.Connection[Any], outbox_dir: Path) -> UUID:
    assert invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())[0] == 201
    row = pg.execute("UPDATE reckonings SET status = 'paid' RETURNING id").fetchone()
    assert row is not None
    deps = with_fakes(OfflineWriter(), OutboxMailer(outbox_dir))
    assert generate_report(GenerateJob(reckoning_id=row["id"]), deps) == "ready"
    return UUID(str(row["id"]))


def test_migrate_reports_up_to_date(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_timeline_shows_the_story_without_personal_data(
    database_url: str,
    report_bucket: str,
    outbox_dir: Path,
    pg: psycopg.Connection[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    rid = ready_reckoning(pg, outbox_dir)
    assert cli.main(["timeline", str(rid)]) == 0
    out = capsys.readouterr().out
    assert "awaiting_payment -> paid" in out and "generating -> ready" in out
    assert "attempt" in out and "report_ready sent" in out
    for private in ("ada@example.com", "Ada", "half marathon", "Priya"):
        assert private not in out
    assert cli.main(["timeline", str(rid), "--json"]) == 0
    assert {row["kind"] for row in json.loads(capsys.readouterr().out)} >= {"status", "attempt", "email"}


def test_timeline_of_an_unknown_reckoning_is_one_line(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["timeline", "00000000-0000-4000-8000-000000000000"]) == 1
    assert "NotFound" in capsys.readouterr().err


def test_regenerate_withdraws_the_report_and_queues_a_new_version(
    database_url: str, report_bucket: str, report_queue: str, outbox_dir: Path, pg: psycopg.Connection[Any]
) -> None:
    rid = ready_reckoning(pg, outbox_dir)
    assert cli.main(["regenerate", str(rid)]) == 0
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "paid"}
    assert pg.execute("SELECT released FROM reports").fetchone() == {"released": False}
    messages = aws.sqs().receive_message(QueueUrl=report_queue, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [
        {"kind": "generate", "reckoningId": str(rid), "reason": "retry"}
    ]
    deps = with_fakes(OfflineWriter(), OutboxMailer(outbox_dir))
    assert handle_job(read_job(messages[0]["Body"]), deps) == "ready"
    assert pg.execute("SELECT version, released FROM reports").fetchone() == {"version": 2, "released": True}
    assert len(list(outbox_dir.glob("*.eml"))) == 2  # the new version is announced too


def test_resend_link_mints_a_new_token_and_sends(
    database_url: str, report_bucket: str, outbox_dir: Path, pg: psycopg.Connection[Any]
) -> None:
    rid = ready_reckoning(pg, outbox_dir)
    tokens_before = count(pg, "access_tokens")
    assert cli.main(["resend-link", str(rid)]) == 0
    assert count(pg, "access_tokens") == tokens_before + 1
    assert len(list(outbox_dir.glob("*.eml"))) == 2


def test_resend_link_refuses_an_unfinished_reckoning(database_url: str, pg: psycopg.Connection[Any]) -> None:
    invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())
    row = pg.execute("SELECT id FROM reckonings").fetchone()
    assert row is not None
    assert cli.main(["resend-link", str(row["id"])]) == 1


def test_dlq_replay_moves_messages_back_and_reopens_failed_reckonings(
    database_url: str, report_queue: str, env: Env, pg: psycopg.Connection[Any]
) -> None:
    invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())
    row = pg.execute("UPDATE reckonings SET status = 'failed' RETURNING id").fetchone()
    assert row is not None
    sqs = aws.sqs()
    dlq = sqs.get_queue_url(QueueName="reckoning-reports-dlq-test")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"reckoningId": str(row["id"]), "reason": "payment"}))
    sqs.send_message(QueueUrl=dlq, MessageBody="garbage")
    env(REPORT_DLQ_URL=dlq)
    assert cli.main(["dlq-replay"]) == 0
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "paid"}
    moved = sqs.receive_message(QueueUrl=report_queue, MaxNumberOfMessages=10)["Messages"]
    assert len(moved) == 2
    assert sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", []) == []


def test_sweep_relays_pending_outbox_rows(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    pg.execute("INSERT INTO outbox (topic, dedupe_key, payload) VALUES ('report_queue', 'k', '{\"a\": 1}')")
    assert cli.main(["sweep"]) == 0
    assert "sent 1" in capsys.readouterr().out
    assert pg.execute("SELECT sent_at IS NOT NULL AS sent FROM outbox").fetchone() == {"sent": True}


@dataclass
class QuotaExhausted:
    def send(self, email: OutgoingEmail, to: str, idempotency_key: str) -> str:
        raise errors.PermanentFailure("quota", kind="email_quota")


def test_a_resend_the_provider_refuses_is_an_error_and_recorded(
    database_url: str, report_bucket: str, outbox_dir: Path, pg: psycopg.Connection[Any]
) -> None:
    rid = ready_reckoning(pg, outbox_dir)
    with pytest.raises(errors.PermanentFailure):
        operations.resend_link(with_fakes(mailer=QuotaExhausted()), rid)
    assert pg.execute("SELECT status, error_class FROM emails ORDER BY id").fetchall() == [
        {"status": "sent", "error_class": None},
        {"status": "failed", "error_class": "email_quota"},
    ]


def test_the_sweeper_prunes_rate_limit_counters_of_windows_long_gone(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    assert invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())[0] == 201
    pg.execute("INSERT INTO rate_limits VALUES ('old', now() - interval '25 hours', 3), ('recent', now(), 1)")
    result = load_function("sweeper").lambda_handler({"source": "aws.scheduler"}, LambdaContext())
    assert result == {"sent": 0, "failed": 0}
    buckets = {row["bucket"].split("|")[0] for row in pg.execute("SELECT bucket FROM rate_limits")}
    assert buckets == {"recent", "POST /api/reckoning"}
