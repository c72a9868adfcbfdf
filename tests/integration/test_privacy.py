"""The person owns their data: erasure (by the person, an operator, the retention purge), export, keyed digests,
expiring links. Against a real PostgreSQL and moto's S3, through the real handlers and worker."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from reckoning import cli, config, db, errors
from reckoning.config import DEV_WEBHOOK_SECRET
from reckoning.db.erasure import ERASED
from reckoning.db.export import EXPORTED
from reckoning.db.migrate import discover, migrate
from reckoning.db.queries import q
from reckoning.dependencies import Dependencies
from reckoning.domain import checkout, operations, sweep
from reckoning.domain.services import erasure
from reckoning.domain.services.tokens import hash_token
from reckoning.models.job import GenerateJob, read_job
from reckoning.ports import Draft
from reckoning.providers import aws
from reckoning.providers.checkout import OfflineCheckout
from reckoning.providers.email import OutboxMailer
from reckoning.providers.offline_writer import OfflineWriter
from reckoning.providers.storage import S3Store
from tests.helpers import (
    Env,
    bucket_store,
    count,
    found_in_bucket,
    found_in_database,
    generate_report,
    handle_job,
    invoke,
    submission,
    with_fakes,
    without_request_id,
)
from tests.integration.test_lifecycle import TRANSITIONS
from tests.stubs.stripe import StripeStub, refund_event, session_event, sign

EMAIL = "zenobia.quill@example.org"
NAME = "Zenobia"
# Three of the person's answers, as they wrote them (tests/helpers.SAMPLE_ANSWERS).
ANSWERS = ["half marathon", "mentor Priya", "move to the product team"]
NEEDLES = [EMAIL, NAME, *ANSWERS]


@dataclass(frozen=True)
class Life:
    reckoning_id: UUID
    token: str


@pytest.fixture
def deps(database_url: str, report_bucket: str, report_queue: str, tmp_path: Path) -> Dependencies:
    return with_fakes(OfflineWriter(), OutboxMailer(tmp_path / "outbox"))


def deliver(event: dict[str, Any]) -> int:
    payload = json.dumps(event)
    headers = {"stripe-signature": sign(payload, DEV_WEBHOOK_SECRET)}
    return invoke("webhook", "POST", "/webhooks/stripe", "$default", body=payload, headers=headers)[0]


def submitted(email: str = EMAIL, ip: str = "203.0.113.7", key: str | None = None) -> tuple[str, UUID]:
    status, _, body = invoke(
        "submit",
        "POST",
        "/api/reckoning",
        "POST /api/reckoning",
        body=submission(email=email, name=NAME),
        source_ip=ip,
        headers={"idempotency-key": key} if key else None,
    )
    assert status == 201
    token = body["data"]["token"]
    with db.database().transaction() as conn:
        row = conn.execute("SELECT reckoning_id FROM access_tokens WHERE token_hash = %s", (hash_token(token),))
        found = row.fetchone()
    assert found is not None
    return token, UUID(str(found["reckoning_id"]))


def live_a_complete_life(deps: Dependencies) -> Life:
    """Submitted (under an idempotency key), paid, generated with a regeneration, emailed, lost-link requested, a
    refund and a flag recorded."""
    token, rid = submitted(key="a-life-under-one-key")
    session = checkout.start_checkout(with_fakes(checkout=OfflineCheckout()), token)
    paid = session_event("checkout.session.completed", session.session_id, str(rid), payment_intent="pi_life")
    assert deliver(paid) == 200
    assert deliver(refund_event("pi_life", refunded=False)) == 200  # a partial refund: recorded, ignored
    wrong = session_event("checkout.session.completed", session.session_id, str(rid), amount=1)
    assert deliver(wrong) == 200  # the payment is flagged for on-call
    assert generate_report(GenerateJob(reckoning_id=rid), deps) == "ready"
    operations.regenerate(with_fakes(), rid)
    assert generate_report(GenerateJob(reckoning_id=rid, reason="retry"), deps) == "ready"
    assert invoke("report", "POST", "/api/report/links", "POST /api/report/links", body={"email": EMAIL})[0] == 202
    with db.database().transaction() as conn:
        row = conn.execute("SELECT payload FROM outbox WHERE payload ->> 'kind' = 'links'").fetchone()
    assert row is not None
    assert handle_job(read_job(row["payload"]), deps) == "links_sent"
    return Life(rid, token)


def report_route(method: str, token: str, suffix: str = "") -> tuple[int, Any]:
    route = f"{method} /api/report/{{token}}{suffix}"
    status, _, body = invoke("report", method, f"/api/report/{token}{suffix}", route, path_parameters={"token": token})
    return status, without_request_id(body)


def erase_by_person(token: str) -> tuple[int, Any]:
    return report_route("DELETE", token)


# ---------------------------------------------------------------- the schema-driven guarantee


def test_erasing_a_complete_life_leaves_the_person_in_no_column_of_any_table_and_no_object(
    database_url: str, deps: Dependencies, report_bucket: str, pg: psycopg.Connection[Any]
) -> None:
    life = live_a_complete_life(deps)
    # The scan finds the person everywhere they are before the erasure: it is a scan that can fail.
    before = found_in_database(pg, NEEDLES)
    assert {hit.split(": ")[1] for hit in before} == set(NEEDLES)
    assert {"reckonings.email: " + EMAIL, "reports.content: " + NAME} <= set(before)
    assert found_in_bucket(aws.s3(), report_bucket, NEEDLES)
    assert len(found_in_bucket(aws.s3(), report_bucket, [NAME])) == 2  # the PDF of each report version

    assert erase_by_person(life.token) == (202, {"success": True, "data": {"erased": True}})

    assert found_in_database(pg, NEEDLES) == []
    assert found_in_bucket(aws.s3(), report_bucket, NEEDLES) == []
    assert aws.s3().list_object_versions(Bucket=report_bucket).get("Versions", []) == []


def test_what_erasure_keeps_is_the_anonymous_accounting_record(
    database_url: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    life = live_a_complete_life(deps)
    assert erase_by_person(life.token)[0] == 202

    reckoning = pg.execute("SELECT status, email, name, answers, paid_at FROM reckonings").fetchone()
    assert reckoning is not None
    assert reckoning["status"] == "erased" and reckoning["paid_at"] is not None
    assert (reckoning["email"], reckoning["name"], reckoning["answers"]) == (None, None, {})
    payment = pg.execute("SELECT amount, currency, status, payment_intent_id, checkout_url FROM payments").fetchone()
    assert payment == {
        "amount": 2900,
        "currency": "eur",
        "status": "paid",
        "payment_intent_id": "pi_life",
        "checkout_url": None,
    }
    assert count(pg, "stripe_events") == 3
    assert count(pg, "access_tokens") == count(pg, "reports") == count(pg, "outbox") == 0
    assert count(pg, "idempotency_keys") == 0
    emails = pg.execute("SELECT kind, status, provider_id, sent_at IS NOT NULL AS sent FROM emails ORDER BY id")
    assert [(e["kind"], e["status"], e["provider_id"], e["sent"]) for e in emails] == [
        ("report_ready", "sent", None, True),
        ("report_ready", "sent", None, True),
        ("report_links", "sent", None, True),
    ]
    history = pg.execute("SELECT from_status, to_status, reason FROM reckoning_events ORDER BY id DESC LIMIT 2")
    assert [(h["from_status"], h["to_status"]) for h in history] == [("erasing", "erased"), ("ready", "erasing")]


def unhandled(pg: psycopg.Connection[Any]) -> set[tuple[str, str]]:
    """(table, what) for tables with a `reckoning_id` that erasure or export does not declare, from the catalog."""
    rows = pg.execute(
        "SELECT table_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND column_name = 'reckoning_id'"
    ).fetchall()
    tables = {row["table_name"] for row in rows}
    return {(t, "erasure") for t in tables - set(ERASED)} | {(t, "export") for t in tables - set(EXPORTED)}


def test_every_table_with_a_reckoning_id_is_handled_by_export_and_erasure(
    database_url: str, pg: psycopg.Connection[Any]
) -> None:
    assert unhandled(pg) == set()
    # Each declared query touches the table it is declared for.
    for declared in (ERASED, EXPORTED):
        for table, query in declared.items():
            assert query is None or table in q(query), f"{query} does not touch {table}"

    pg.execute("CREATE TABLE journal_notes (id bigint, reckoning_id uuid, body text)")  # a future table

    assert unhandled(pg) == {("journal_notes", "erasure"), ("journal_notes", "export")}


# ---------------------------------------------------------------- erasure by the person


def test_after_erasure_the_token_is_as_unknown_as_any_and_a_repeat_gets_the_same_404(
    database_url: str, report_bucket: str, pg: psycopg.Connection[Any]
) -> None:
    token, _ = submitted()
    assert erase_by_person(token)[0] == 202
    unknown = "x" * 43
    for method, suffix in (("GET", ""), ("GET", "/export"), ("GET", "/pdf"), ("DELETE", "")):
        assert report_route(method, token, suffix) == report_route(method, unknown, suffix)
        assert report_route(method, token, suffix)[0] == 404
    status, _, body = invoke("checkout", "POST", "/api/checkout", "POST /api/checkout", body={"token": token})
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")


def test_a_malformed_token_erases_nothing(database_url: str, report_bucket: str, pg: psycopg.Connection[Any]) -> None:
    submitted()
    assert erase_by_person("not-a-token")[0] == 404
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "awaiting_payment"}


def test_erasing_is_rate_limited_like_the_other_writes(
    database_url: str, report_bucket: str, env: Env, pg: psycopg.Connection[Any]
) -> None:
    env(RATE_LIMIT_SUBMIT="1")
    assert erase_by_person("y" * 43)[0] == 404
    status, body = erase_by_person("y" * 43)
    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")


class FailingStore(S3Store):
    """S3 refusing (transient) or the process dying (a BaseException) when objects are to be deleted."""

    def __init__(self, failure: BaseException) -> None:
        super().__init__(config.settings().report_bucket)
        self.failure = failure

    def delete_reckoning(self, reckoning_id: UUID) -> int:
        raise self.failure


class Crash(BaseException):
    pass


@pytest.mark.parametrize("failure", [errors.TransientFailure("S3 down"), Crash()], ids=["S3 down", "crash"])
def test_an_erasure_stopped_halfway_is_finished_by_the_next_sweep(
    failure: BaseException, database_url: str, deps: Dependencies, report_bucket: str, pg: psycopg.Connection[Any]
) -> None:
    token, rid = submitted()
    pg.execute("UPDATE reckonings SET status = 'paid'")
    assert generate_report(GenerateJob(reckoning_id=rid), deps) == "ready"
    try:
        erasure.erase_by_token(with_fakes(store=FailingStore(failure)), token)  # S3 down: still accepted
    except Crash:
        pass
    assert pg.execute("SELECT status, email FROM reckonings").fetchone() == {"status": "erasing", "email": None}
    assert report_route("GET", token)[0] == 404  # unknown from the first commit on
    assert found_in_bucket(aws.s3(), report_bucket, [NAME])  # the PDF is still there

    sweep.sweep(with_fakes())

    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "erased"}
    assert found_in_bucket(aws.s3(), report_bucket, NEEDLES) == []


# ---------------------------------------------------------------- work in flight stops


@dataclass
class ErasingWriter:
    """Writes a report; the person erases the reckoning while it is being written."""

    reckoning_id: UUID
    model: str = "offline"

    def write(self, sub: Any, feedback: Any = ()) -> Draft:
        erasure.erase(with_fakes(), self.reckoning_id, "erased while writing")
        return OfflineWriter().write(sub, feedback)


class ErasingStore(S3Store):
    """Real S3; the erasure lands between the worker's save and its upload of the PDF."""

    def __init__(self, reckoning_id: UUID) -> None:
        super().__init__(config.settings().report_bucket)
        self.reckoning_id = reckoning_id

    def put_pdf_if_absent(self, key: str, data: bytes) -> bool:
        erasure.erase(with_fakes(), self.reckoning_id, "erased before the upload")
        return super().put_pdf_if_absent(key, data)


@pytest.mark.parametrize("when", ["while writing", "before the upload"])
def test_a_job_in_flight_stops_without_releasing_or_emailing(
    when: str, database_url: str, deps: Dependencies, report_bucket: str, pg: psycopg.Connection[Any]
) -> None:
    _, rid = submitted()
    pg.execute("UPDATE reckonings SET status = 'paid'")
    erasing = (
        with_fakes(ErasingWriter(rid), deps.mailer)
        if when == "while writing"
        else with_fakes(OfflineWriter(), deps.mailer, ErasingStore(rid))
    )
    assert generate_report(GenerateJob(reckoning_id=rid), erasing) == "stopped"

    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "erased"}
    assert count(pg, "reports") == count(pg, "access_tokens") == count(pg, "emails") == 0
    assert aws.s3().list_objects_v2(Bucket=report_bucket).get("Contents", []) == []
    assert isinstance(deps.mailer, OutboxMailer)
    assert not list(deps.mailer.directory.glob("*.eml"))
    assert generate_report(GenerateJob(reckoning_id=rid), deps) == "skipped"  # a redelivery


@pytest.mark.parametrize("name", TRANSITIONS)
def test_no_lifecycle_write_moves_an_erased_reckoning(
    name: str, database_url: str, report_bucket: str, pg: psycopg.Connection[Any]
) -> None:
    _, rid = submitted()
    erasure.erase(with_fakes(), rid, "test")
    write = TRANSITIONS[name][0]
    with db.database().transaction() as conn:
        assert write(conn, rid) is False
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "erased"}


def test_a_refund_after_erasure_is_recorded_on_the_payment_alone(
    database_url: str, report_bucket: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    token, rid = submitted()
    session = checkout.start_checkout(with_fakes(checkout=OfflineCheckout()), token)
    assert deliver(session_event("checkout.session.completed", session.session_id, str(rid))) == 200
    assert erase_by_person(token)[0] == 202

    assert deliver(refund_event("pi_test_1")) == 200

    assert pg.execute("SELECT status FROM payments").fetchone() == {"status": "refunded"}
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "erased"}


# ---------------------------------------------------------------- erasure by an operator


def test_an_operator_erases_every_reckoning_of_an_address_and_the_output_names_no_one(
    database_url: str, report_bucket: str, pg: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = submitted()[1], submitted(email=EMAIL.upper())[1]
    other = submitted(email="someone.else@example.org")[1]
    bucket_store().put_pdf_if_absent(bucket_store().pdf_key(first, 1), b"%PDF-1.7 Zenobia")

    assert cli.main(["erase", "--email", f" {EMAIL} "]) == 0

    out = capsys.readouterr().out
    assert f"erased {first}: 2 database row(s), 1 stored object(s)" in out
    assert f"erased {second}: 2 database row(s), 0 stored object(s)" in out
    assert "2 reckoning(s) erased" in out and EMAIL not in out.lower()
    statuses = {row["id"]: row["status"] for row in pg.execute("SELECT id, status FROM reckonings")}
    assert statuses == {first: "erased", second: "erased", other: "awaiting_payment"}
    assert cli.main(["erase", "--email", EMAIL]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "nothing to erase"


def test_an_operator_erases_one_reckoning_by_its_id(
    database_url: str, report_bucket: str, pg: psycopg.Connection[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    _, rid = submitted()
    assert cli.main(["erase", "--reckoning", str(rid)]) == 0
    assert f"erased {rid}: 2 database row(s), 0 stored object(s)" in capsys.readouterr().out
    assert cli.main(["erase", "--reckoning", str(rid)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "nothing to erase"
    assert cli.main(["timeline", str(rid)]) == 0  # its anonymous story stays readable
    assert "erasing -> erased" in capsys.readouterr().out


def test_the_erase_command_needs_exactly_one_of_its_choices(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["erase"],
        ["erase", "--email", EMAIL, "--reckoning", str(UUID(int=1))],
        ["erase", "--reckoning", "x"],
    ):
        with pytest.raises(SystemExit) as refused:
            cli.main(argv)
        assert refused.value.code == 2


# ---------------------------------------------------------------- the retention purge


def aged(pg: psycopg.Connection[Any], status: str, *, created_days: int, ready_days: int | None = None) -> UUID:
    """A reckoning in `status`, created (and delivered) that many days ago."""
    row = pg.execute(
        "INSERT INTO reckonings (email, name, questionnaire_version, answers, status, created_at, paid_at, ready_at)"
        " VALUES (%s, %s, '2025-01', '{\"proud_of\": \"half marathon\"}', %s, now() - make_interval(days => %s),"
        " CASE WHEN %s <> 'awaiting_payment' THEN now() - make_interval(days => %s) END,"
        " now() - make_interval(days => %s)) RETURNING id",
        (EMAIL, NAME, status, created_days, status, created_days, ready_days),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def test_the_purge_erases_what_its_settings_say_and_nothing_else(
    database_url: str, report_bucket: str, report_queue: str, env: Env, pg: psycopg.Connection[Any]
) -> None:
    env(UNPAID_RETENTION_DAYS="7", RETENTION_DAYS="30")
    delivered = aged(pg, "ready", created_days=40, ready_days=31)
    bucket_store().put_pdf_if_absent(bucket_store().pdf_key(delivered, 1), b"%PDF-1.7 Zenobia")
    due = {
        delivered,
        aged(pg, "awaiting_payment", created_days=8),
        aged(pg, "refunded", created_days=31),  # paid 31 days ago, never delivered
    }
    kept = {
        aged(pg, "awaiting_payment", created_days=6),
        aged(pg, "ready", created_days=40, ready_days=29),  # delivered within its retention
        aged(pg, "needs_review", created_days=29),
    }
    half = aged(pg, "ready", created_days=1, ready_days=1)  # an erasure S3 could not finish
    pg.execute("UPDATE reckonings SET status = 'erasing', email = NULL WHERE id = %s", (half,))

    sweep.sweep(with_fakes())

    statuses = {row["id"]: row["status"] for row in pg.execute("SELECT id, status FROM reckonings")}
    assert {rid for rid, status in statuses.items() if status == "erased"} == due | {half}
    still = pg.execute("SELECT id FROM reckonings WHERE email IS NOT NULL").fetchall()
    assert {row["id"] for row in still} == kept
    assert aws.s3().list_objects_v2(Bucket=report_bucket).get("Contents", []) == []
    sweep.sweep(with_fakes())  # the next minute finds nothing more
    assert {row["id"] for row in pg.execute("SELECT id FROM reckonings WHERE status = 'erased'")} == due | {half}


class RefusesOne(S3Store):
    """S3 refusing to delete one reckoning's objects (a bad object lock, a policy), and only that one."""

    def __init__(self, refused: UUID) -> None:
        super().__init__(config.settings().report_bucket)
        self.refused = refused

    def delete_reckoning(self, reckoning_id: UUID) -> int:
        if reckoning_id == self.refused:
            raise errors.TransientFailure("S3 delete_objects: AccessDenied")
        return super().delete_reckoning(reckoning_id)


def test_one_reckoning_that_cannot_be_erased_does_not_stop_the_purge_of_the_others(
    database_url: str, report_bucket: str, report_queue: str, env: Env, pg: psycopg.Connection[Any]
) -> None:
    env(UNPAID_RETENTION_DAYS="7")
    stuck = aged(pg, "awaiting_payment", created_days=10)  # the oldest: the purge meets it first
    others = {aged(pg, "awaiting_payment", created_days=9), aged(pg, "awaiting_payment", created_days=8)}

    sweep.sweep(with_fakes(store=RefusesOne(stuck)))

    statuses = {row["id"]: row["status"] for row in pg.execute("SELECT id, status FROM reckonings")}
    assert {rid for rid in others if statuses[rid] == "erased"} == others
    assert statuses[stuck] == "erasing"  # its personal fields are gone; its objects wait for the next minute


def test_an_unpaid_reckoning_is_purged_from_its_last_checkout_not_its_creation(
    database_url: str, report_bucket: str, report_queue: str, env: Env, pg: psycopg.Connection[Any]
) -> None:
    env(UNPAID_RETENTION_DAYS="7")
    returning = aged(pg, "awaiting_payment", created_days=10)
    pg.execute(
        "INSERT INTO payments (reckoning_id, generation, checkout_session_id, checkout_url, amount, currency,"
        " expires_at, created_at) VALUES (%s, 1, 'cs_test_late', 'https://checkout.example', 2900, 'eur',"
        " now() - interval '2 days', now() - interval '3 days')",
        (returning,),
    )

    sweep.sweep(with_fakes())

    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "awaiting_payment"}


# ---------------------------------------------------------------- export


def test_the_export_holds_everything_stored_and_no_secret(
    database_url: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    life = live_a_complete_life(deps)

    status, body = report_route("GET", life.token, "/export")

    assert status == 200
    data = body["data"]
    assert data["reckoning"]["email"] == EMAIL and data["reckoning"]["name"] == NAME
    proud = next(a for a in data["answers"] if a["questionId"] == "proud_of")
    assert "half marathon" in proud["answer"] and proud["question"]
    assert [(r["version"], r["released"], bool(r["content"]["title"])) for r in data["reports"]] == [(2, True, True)]
    [payment] = data["payments"]
    assert (payment["amount"], payment["currency"], payment["paymentIntentId"]) == (2900, "eur", "pi_life")
    # The partial refund matched no payment of it (it is kept, unlinked); the flagged repeat did.
    assert [e["type"] for e in data["paymentEvents"]] == ["checkout.session.completed"] * 2
    assert [(e["kind"], "sentAt" in e) for e in data["emails"]] == [
        ("report_ready", True),
        ("report_ready", True),
        ("report_links", True),
    ]
    assert sorted(link["purpose"] for link in data["links"]) == ["email_link", "email_link", "email_link", "report"]
    assert all("expiresAt" in link for link in data["links"])
    assert [s["status"] for s in data["statusHistory"]][:3] == ["awaiting_payment", "paid", "generating"]
    assert len(data["generationAttempts"]) == 2
    assert [(r["route"], "completedAt" in r) for r in data["idempotentRequests"]] == [("POST /api/reckoning", True)]
    text = json.dumps(body)
    assert "a-life-under-one-key" not in text and life.token not in text and hash_token(life.token).hex() not in text


def test_a_held_report_is_exported_without_its_text(
    database_url: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    token, rid = submitted()
    pg.execute("UPDATE reckonings SET status = 'paid'")
    assert generate_report(GenerateJob(reckoning_id=rid), deps) == "ready"
    pg.execute("UPDATE reports SET released = false")

    [report] = report_route("GET", token, "/export")[1]["data"]["reports"]

    assert report["released"] is False and "content" not in report


# ---------------------------------------------------------------- keyed digests, expiring links


def test_digests_of_addresses_and_ips_are_keyed_and_none_is_a_bare_hash(
    database_url: str, report_bucket: str, env: Env, pg: psycopg.Connection[Any]
) -> None:
    env(DIGEST_KEY="a-test-key-of-our-own")
    ip = "198.51.100.23"
    submitted(ip=ip)
    pg.execute("UPDATE reckonings SET status = 'ready'")
    invoke("report", "POST", "/api/report/links", "POST /api/report/links", body={"email": EMAIL}, source_ip=ip)

    stored = [r["bucket"] for r in pg.execute("SELECT bucket FROM rate_limits")]
    stored += [r["dedupe_key"] for r in pg.execute("SELECT dedupe_key FROM outbox")]
    for plain in (ip, EMAIL):
        bare = hashlib.sha256(plain.encode()).hexdigest()[:32]
        assert not any(bare in value or plain in value for value in stored)
    keyed = hmac.new(b"a-test-key-of-our-own", ip.encode(), hashlib.sha256).hexdigest()[:32]
    assert f"POST /api/reckoning|{keyed}" in stored


def test_links_expire_by_default(database_url: str, deps: Dependencies, env: Env, pg: psycopg.Connection[Any]) -> None:
    env(RETENTION_DAYS="200", REPORT_TOKEN_TTL_DAYS="20")
    _, rid = submitted()
    pg.execute("UPDATE reckonings SET status = 'paid'")
    assert generate_report(GenerateJob(reckoning_id=rid), deps) == "ready"

    rows = pg.execute("SELECT purpose, expires_at - created_at AS lifetime FROM access_tokens ORDER BY created_at")
    lifetimes = {row["purpose"]: row["lifetime"] for row in rows}

    assert abs(lifetimes["report"] - timedelta(days=200)) < timedelta(minutes=1)
    assert abs(lifetimes["email_link"] - timedelta(days=20)) < timedelta(minutes=1)


def test_the_migration_prunes_the_bare_sha256_digests_written_before(empty_database_url: str, tmp_path: Path) -> None:
    for migration in discover():
        if migration.version < "0004":
            (tmp_path / migration.name).write_text(migration.sql)
    migrate(empty_database_url, tmp_path)
    bare = hashlib.sha256(EMAIL.encode()).hexdigest()[:32]
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO rate_limits VALUES ('links-email|' || %s, now(), 1)", (bare,))
        for sent in (True, False):
            key = f"links:{bare}:{int(sent)}"
            payload = json.dumps({"kind": "links", "reckoningId": str(UUID(int=1)), "requestId": key})
            conn.execute(
                "INSERT INTO outbox (topic, dedupe_key, payload, sent_at)"
                " VALUES ('report_queue', %s, %s, CASE WHEN %s THEN now() END)",
                (key, payload, sent),
            )
            conn.execute(
                "INSERT INTO emails (kind, idempotency_key, status) VALUES ('report_links', %s, %s)",
                (f"report-links/{key}", "sent" if sent else "pending"),
            )

    for migration in discover():
        (tmp_path / migration.name).write_text(migration.sql)
    migrate(empty_database_url, tmp_path)

    with psycopg.connect(empty_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM rate_limits").fetchone() == (0,)
        outbox = conn.execute("SELECT dedupe_key, payload ->> 'requestId' FROM outbox ORDER BY id").fetchall()
        keys = [row[0] for row in conn.execute("SELECT idempotency_key FROM emails ORDER BY id")]
    (done, done_request), (pending, pending_request) = outbox
    assert done.startswith("links:legacy:") and done_request == done and bare not in done
    assert keys[0].startswith("report-links/links:legacy:") and bare not in keys[0]
    # Jobs still pending (minutes old at a deploy) finish under their key.
    assert pending == pending_request == f"links:{bare}:0" and keys[1] == f"report-links/{pending}"


# ---------------------------------------------------------------- erasure closes the door to paying first


@pytest.fixture
def stripe_stub(env: Env) -> Iterator[StripeStub]:
    stub = StripeStub()
    stub.server.start()
    env(STRIPE_SECRET_KEY="sk_test_reckoning", STRIPE_API_BASE=stub.url, STRIPE_TIMEOUT_S="0.5")
    yield stub
    stub.server.stop()


def open_session(token: str) -> str:
    status, _, body = invoke("checkout", "POST", "/api/checkout", "POST /api/checkout", body={"token": token})
    assert status == 200
    session_id: str = body["data"]["sessionId"]
    return session_id


def test_erasing_expires_the_open_checkout_session_so_it_can_no_longer_be_paid(
    database_url: str, report_bucket: str, stripe_stub: StripeStub, pg: psycopg.Connection[Any]
) -> None:
    token, _ = submitted()
    session_id = open_session(token)

    assert erase_by_person(token)[0] == 202

    assert stripe_stub.session(session_id)["status"] == "expired"
    with pytest.raises(ValueError, match="cannot be paid"):
        stripe_stub.pay(session_id, "pi_too_late")
    assert pg.execute("SELECT status, checkout_url FROM payments").fetchone() == {
        "status": "expired",
        "checkout_url": None,
    }


def test_an_operator_erasure_and_the_purge_expire_open_sessions_too(
    database_url: str,
    report_bucket: str,
    report_queue: str,
    stripe_stub: StripeStub,
    env: Env,
    pg: psycopg.Connection[Any],
) -> None:
    by_operator, operator_id = submitted()
    by_purge, purge_id = submitted(email="other@example.org")
    sessions = [open_session(by_operator), open_session(by_purge)]
    assert cli.main(["erase", "--reckoning", str(operator_id)]) == 0
    pg.execute("UPDATE reckonings SET created_at = now() - interval '40 days' WHERE id = %s", (purge_id,))
    pg.execute("UPDATE payments SET created_at = now() - interval '40 days' WHERE reckoning_id = %s", (purge_id,))
    sweep.sweep(with_fakes())
    assert [stripe_stub.session(s)["status"] for s in sessions] == ["expired", "expired"]
    assert {row["status"] for row in pg.execute("SELECT status FROM reckonings")} == {"erased"}


def test_with_stripe_unreachable_the_persons_erasure_is_a_503_that_changes_nothing(
    database_url: str, report_bucket: str, env: Env, pg: psycopg.Connection[Any]
) -> None:
    token, _ = submitted()
    checkout.start_checkout(with_fakes(checkout=OfflineCheckout()), token)
    env(STRIPE_SECRET_KEY="sk_test_reckoning", STRIPE_API_BASE="http://127.0.0.1:9", STRIPE_TIMEOUT_S="0.2")

    status, body = erase_by_person(token)

    assert (status, body["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert pg.execute("SELECT status, email FROM reckonings").fetchone() == {
        "status": "awaiting_payment",
        "email": EMAIL,
    }
    assert pg.execute("SELECT status FROM payments").fetchone() == {"status": "open"}
    assert report_route("GET", token)[0] == 200  # the token still opens it: the person may try again


def test_the_purge_skips_a_reckoning_whose_session_stripe_cannot_expire_until_the_next_minute(
    database_url: str, report_bucket: str, report_queue: str, env: Env, pg: psycopg.Connection[Any]
) -> None:
    env(UNPAID_RETENTION_DAYS="7")
    waiting = aged(pg, "awaiting_payment", created_days=10)
    pg.execute(
        "INSERT INTO payments (reckoning_id, generation, checkout_session_id, checkout_url, amount, currency,"
        " expires_at, created_at) VALUES (%s, 1, 'cs_test_unreachable', 'https://checkout.example', 2900, 'eur',"
        " now() - interval '9 days', now() - interval '9 days')",
        (waiting,),
    )
    other = aged(pg, "awaiting_payment", created_days=9)
    env(STRIPE_SECRET_KEY="sk_test_reckoning", STRIPE_API_BASE="http://127.0.0.1:9", STRIPE_TIMEOUT_S="0.2")

    sweep.sweep(with_fakes())

    statuses = {row["id"]: row["status"] for row in pg.execute("SELECT id, status FROM reckonings")}
    assert statuses == {waiting: "awaiting_payment", other: "erased"}


def test_a_session_paid_as_it_is_erased_is_erased_anyway_and_its_payment_flagged(
    database_url: str,
    report_bucket: str,
    stripe_stub: StripeStub,
    pg: psycopg.Connection[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    token, rid = submitted()
    session_id = open_session(token)
    stripe_stub.pay(session_id, "pi_paid_while_erasing")

    assert erase_by_person(token)[0] == 202

    assert "a person must refund it" in caplog.text
    paid = session_event("checkout.session.completed", session_id, str(rid), payment_intent="pi_paid_while_erasing")
    assert deliver(paid) == 200
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "erased"}
    assert pg.execute("SELECT outcome FROM stripe_events").fetchone() == {"outcome": "flagged"}


# ---------------------------------------------------------------- a refunded person still owns their data


def test_a_refunded_person_sees_the_refund_exports_erases_and_recovers_lost_links(
    database_url: str, deps: Dependencies, report_bucket: str, tmp_path: Path, pg: psycopg.Connection[Any]
) -> None:
    # Given a delivered report, then refunded in full
    token, rid = submitted()
    session = checkout.start_checkout(with_fakes(checkout=OfflineCheckout()), token)
    assert (
        deliver(session_event("checkout.session.completed", session.session_id, str(rid), payment_intent="pi_r")) == 200
    )
    assert generate_report(GenerateJob(reckoning_id=rid), deps) == "ready"
    assert deliver(refund_event("pi_r")) == 200
    # Then the link shows the refund with its message, and no report or PDF
    status, body = report_route("GET", token)
    assert (status, body["data"]["status"]) == (200, "refunded")
    assert "refunded" in body["data"]["message"] and body["data"].get("report") is None
    assert report_route("GET", token, "/pdf")[0] == 409
    # And the person may export their data
    status, body = report_route("GET", token, "/export")
    assert status == 200 and body["data"]["reckoning"]["status"] == "refunded"
    # And lost-link recovery sends a link to it
    assert invoke("report", "POST", "/api/report/links", "POST /api/report/links", body={"email": EMAIL})[0] == 202
    row = pg.execute("SELECT payload FROM outbox WHERE payload ->> 'kind' = 'links'").fetchone()
    assert row is not None
    mailer = OutboxMailer(tmp_path / "links")
    assert handle_job(read_job(row["payload"]), with_fakes(mailer=mailer)) == "links_sent"
    [eml] = list((tmp_path / "links").glob("*.eml"))
    assert "/report#" in eml.read_text()
    # And erase it
    assert erase_by_person(token)[0] == 202
    assert pg.execute("SELECT status FROM reckonings").fetchone() == {"status": "erased"}
