"""Lost-link recovery: POST /api/report/links answers the same for every address and mails fresh links."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reckoning import db, errors
from reckoning.domain.services import relay
from reckoning.models.job import Job, read_job
from reckoning.ports import OutgoingEmail
from reckoning.providers.email import OutboxMailer
from reckoning.providers.offline_writer import OfflineWriter
from tests.helpers import Env, count, handle_job, invoke, submission, with_fakes

LINKS = ("report", "POST", "/api/report/links", "POST /api/report/links")


def ask(email: str, ip: str = "203.0.113.9") -> tuple[int, Any]:
    status, _, body = invoke(*LINKS, body={"email": email}, source_ip=ip)
    return status, body


def paid(pg: psycopg.Connection[Any], email: str = "ada@example.com") -> None:
    assert invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission(email=email))[0] == 201
    pg.execute("UPDATE reckonings SET status = 'ready' WHERE status = 'awaiting_payment'")


def test_known_and_unknown_addresses_get_the_same_answer(database_url: str, pg: psycopg.Connection[Any]) -> None:
    paid(pg)
    known, unknown = ask("ada@example.com"), ask("nobody@example.com")
    assert known == unknown
    assert known[0] == 202
    assert pg.execute("SELECT payload->>'kind' AS kind FROM outbox").fetchall() == [{"kind": "links"}]


def test_unpaid_reckonings_get_no_links(database_url: str, pg: psycopg.Connection[Any]) -> None:
    invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())
    assert ask("ada@example.com")[0] == 202
    assert count(pg, "outbox") == 0


def test_repeated_requests_queue_one_email_per_window(database_url: str, pg: psycopg.Connection[Any]) -> None:
    paid(pg)
    for _ in range(3):
        assert ask("ADA@example.com ")[0] == 202
    assert count(pg, "outbox") == 1


def test_per_ip_limit_is_visible_per_email_limit_is_not(
    database_url: str, pg: psycopg.Connection[Any], env: Env
) -> None:
    env(RATE_LIMIT_LINKS="2")
    assert [ask("x@example.com")[0] for _ in range(2)] == [202, 202]
    assert ask("x@example.com")[0] == 429  # this IP is over its limit
    assert ask("x@example.com", ip="198.51.100.4")[0] == 202  # another IP: same 202, silently not acted on


def test_invalid_email_is_a_validation_error(database_url: str, pg: psycopg.Connection[Any]) -> None:
    status, body = ask("not-an-email")
    assert (status, body["error"]["details"][0]["field"]) == (400, "email")
    assert count(pg, "outbox") == 0


def test_the_worker_mails_fresh_expiring_links_that_open_the_reports(
    database_url: str,
    report_queue: str,
    report_bucket: str,
    pg: psycopg.Connection[Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paid(pg)
    paid(pg)
    old_token_count = count(pg, "access_tokens")
    ask("ada@example.com")
    [job] = [row["payload"] for row in pg.execute("SELECT payload FROM outbox")]
    assert relay.drain(db.database(), _queue()).sent == 1
    mailer = OutboxMailer(tmp_path)
    deps = with_fakes(OfflineWriter(), mailer)
    assert handle_job(read_job(job), deps) == "links_sent"
    assert handle_job(read_job(job), deps) == "links_sent"  # redelivery
    [eml] = list(tmp_path.glob("*.eml"))
    assert count(pg, "access_tokens") == old_token_count + 2
    expiring = pg.execute(
        "SELECT count(*) AS n FROM access_tokens WHERE purpose = 'email_link' AND expires_at > now()"
    ).fetchone()
    assert expiring == {"n": 2}
    text = eml.read_text()
    # The link opens the web client's report page with the token in the fragment (never sent to a server).
    tokens = [text[i + len("/report#") : i + len("/report#") + 43] for i in _find_all(text, "/report#")]
    token = tokens[0]
    status, _, body = invoke(
        "report", "GET", f"/api/report/{token}", "GET /api/report/{token}", path_parameters={"token": token}
    )
    # `paid` set the status by hand, with no released report to show: a reckoning still to be shown (poll again).
    assert status == 200 and body["data"]["status"] == "generating"


def _find_all(text: str, needle: str) -> list[int]:
    found, start = [], text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def _queue() -> Any:
    return with_fakes().queue


@dataclass
class Refusing:
    """A mailer whose provider fails: for now (transient) or for good (permanent)."""

    failure: Exception
    calls: int = 0

    def send(self, email: OutgoingEmail, to: str, idempotency_key: str) -> str:
        self.calls += 1
        raise self.failure


def queued_links_job(pg: psycopg.Connection[Any]) -> Job:
    paid(pg)
    ask("ada@example.com")
    [payload] = [row["payload"] for row in pg.execute("SELECT payload FROM outbox")]
    return read_job(payload)


def test_a_links_email_refused_for_good_is_recorded_and_not_retried(
    database_url: str, pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    job = queued_links_job(pg)
    refusing = Refusing(errors.PermanentFailure("quota", kind="email_quota"))
    deps = with_fakes(OfflineWriter(), refusing)
    assert handle_job(job, deps) == "links_sent"  # the job is done: retrying cannot help
    assert pg.execute("SELECT status, error_class FROM emails").fetchall() == [
        {"status": "failed", "error_class": "email_quota"}
    ]
    assert handle_job(job, deps) == "links_sent"  # a redelivery
    assert refusing.calls == 1


def test_a_links_email_that_fails_for_now_is_sent_once_by_the_redelivery(
    database_url: str, pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    job = queued_links_job(pg)
    down = with_fakes(OfflineWriter(), Refusing(errors.TransientFailure("429")))
    with pytest.raises(errors.TransientFailure):
        handle_job(job, down)  # SQS redelivers
    assert pg.execute("SELECT status FROM emails").fetchall() == [{"status": "pending"}]
    deps = with_fakes(OfflineWriter(), OutboxMailer(tmp_path))
    for _ in range(2):
        assert handle_job(job, deps) == "links_sent"
    assert pg.execute("SELECT status FROM emails").fetchall() == [{"status": "sent"}]
    assert len(list(tmp_path.glob("*.eml"))) == 1
