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


# ---------------------------------------------------------------- no stand-ins outside the local stack


def test_resend_link_with_only_a_database_url_refuses_before_minting_or_writing_an_eml(
    database_url: str,
    report_bucket: str,
    outbox_dir: Path,
    env: Env,
    pg: psycopg.Connection[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a ready reckoning, and an operator whose shell has DATABASE_URL only (as the README shows `migrate`)
    rid = ready_reckoning(pg, outbox_dir)
    tokens_before, emails_before = count(pg, "access_tokens"), len(list(outbox_dir.glob("*.eml")))
    env(ENVIRONMENT=None)
    capsys.readouterr()
    # When they resend the link
    code = cli.main(["resend-link", str(rid)])
    # Then nothing is done, and one line says which setting is missing
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "RESEND_API_KEY" in err
    assert count(pg, "access_tokens") == tokens_before
    assert len(list(outbox_dir.glob("*.eml"))) == emails_before
    # And a production environment without the queue refuses regenerate the same way
    env(ENVIRONMENT="production")
    assert cli.main(["regenerate", str(rid)]) == 2
    assert "REPORT_QUEUE_URL" in capsys.readouterr().err
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "ready"}


def test_configuration_errors_are_one_line_not_a_traceback(
    tmp_path: Path, env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .local/stack.env here
    env(DATABASE_URL=None, DATABASE_SECRET_ARN=None)
    assert cli.main(["timeline", "00000000-0000-4000-8000-000000000000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == ["configuration: set DATABASE_URL or DATABASE_SECRET_ARN"]
    env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", DB_POOL_SIZE="many")
    assert cli.main(["costs"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("configuration: DB_POOL_SIZE")


# ---------------------------------------------------------------- a support case starts with an address or a Stripe id


def test_find_by_email_prints_ids_statuses_and_dates_never_the_address(
    database_url: str,
    report_bucket: str,
    outbox_dir: Path,
    pg: psycopg.Connection[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    rid = ready_reckoning(pg, outbox_dir)
    assert (
        invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission(email="bo@example.com"))[0]
        == 201
    )
    capsys.readouterr()
    assert cli.main(["find", "--email", "ADA@example.com"]) == 0
    out = capsys.readouterr().out
    assert str(rid) in out and "ready" in out and "created 20" in out
    assert len(out.strip().splitlines()) == 1
    assert "ada@example.com" not in out.lower()
    assert cli.main(["find", "--email", "nobody@example.com"]) == 1
    assert "no reckoning found" in capsys.readouterr().out


def test_find_by_stripe_session_and_payment_intent_and_charge(
    database_url: str, pg: psycopg.Connection[Any], env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())[0] == 201
    row = pg.execute("SELECT id FROM reckonings").fetchone()
    assert row is not None
    pg.execute(
        "INSERT INTO payments (reckoning_id, generation, checkout_session_id, payment_intent_id, amount, currency,"
        " expires_at) VALUES (%s, 1, 'cs_test_found', 'pi_test_found', 2900, 'eur', now())",
        (row["id"],),
    )
    for stripe_id in ("cs_test_found", "pi_test_found"):
        assert cli.main(["find", "--stripe", stripe_id]) == 0
        assert str(row["id"]) in capsys.readouterr().out
    assert cli.main(["find", "--stripe", "pi_unknown"]) == 1
    # A charge id is not stored: the local stack's checkout knows no charges ...
    assert cli.main(["find", "--stripe", "ch_test_1"]) == 1
    # ... and outside it, Stripe must be asked, so its key is needed
    env(ENVIRONMENT="production")
    capsys.readouterr()
    assert cli.main(["find", "--stripe", "ch_test_1"]) == 2
    assert "STRIPE_SECRET_KEY" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        cli.main(["find", "--stripe", "in_123"])
    assert exited.value.code == 2 and "cs_" in capsys.readouterr().err
