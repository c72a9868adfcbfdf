"""The sweeper finds stale work again: paid and unclaimed, or generating with a lease long ended; once per period."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg
import pytest

from reckoning import db
from reckoning.domain.services import recovery
from reckoning.models.status import Status
from reckoning.providers import aws
from reckoning_local.events import LambdaContext
from tests.helpers import Env, count, load_function, with_fakes

STALE_S = 300


@pytest.fixture(autouse=True)
def stale_after(env: Env) -> None:
    env(GENERATION_STALE_AFTER_S=str(STALE_S))


def reckoning(pg: psycopg.Connection[Any], status: Status, *, idle_s: float, lease_ended_s: float = 0) -> UUID:
    """A reckoning `idle_s` seconds in `status` (generating: its lease ended `lease_ended_s` ago)."""
    row = pg.execute(
        "INSERT INTO reckonings (email, questionnaire_version, answers, status, lease_expires_at, status_changed_at)"
        " VALUES ('a@example.com', '2025-01', '{}', %s, now() - make_interval(secs => %s),"
        " now() - make_interval(secs => %s)) RETURNING id",
        (status, lease_ended_s, idle_s),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def requeued(pg: psycopg.Connection[Any]) -> list[str]:
    return [row["payload"]["reckoningId"] for row in pg.execute("SELECT payload FROM outbox ORDER BY id")]


def age(pg: psycopg.Connection[Any], seconds: int) -> None:
    """Everything happened `seconds` earlier (the database's clock cannot be moved, the data can)."""
    pg.execute(
        "UPDATE reckonings SET status_changed_at = status_changed_at - make_interval(secs => %(s)s),"
        " lease_expires_at = lease_expires_at - make_interval(secs => %(s)s)",
        {"s": seconds},
    )


def test_only_paid_and_generating_work_left_alone_for_the_stale_period_is_requeued(
    database_url: str, pg: psycopg.Connection[Any]
) -> None:
    stale_paid = reckoning(pg, Status.PAID, idle_s=STALE_S + 1)
    stale_generating = reckoning(pg, Status.GENERATING, idle_s=3600, lease_ended_s=STALE_S + 1)
    reckoning(pg, Status.PAID, idle_s=STALE_S - 5)  # its job may still be on the way
    reckoning(pg, Status.GENERATING, idle_s=3600, lease_ended_s=-60)  # a live lease: a worker has it
    reckoning(pg, Status.GENERATING, idle_s=3600, lease_ended_s=10)  # handed back: SQS retries it itself
    for status in set(Status) - {Status.PAID, Status.GENERATING}:
        reckoning(pg, status, idle_s=86400, lease_ended_s=86400)
    assert recovery.requeue_stale(db.database(), with_fakes().policy.generation_stale_after_s) == 2
    assert sorted(requeued(pg)) == sorted([str(stale_paid), str(stale_generating)])
    payload = pg.execute("SELECT payload FROM outbox LIMIT 1").fetchone()
    assert payload is not None and payload["payload"]["kind"] == "generate" and payload["payload"]["reason"] == "retry"


def test_a_second_sweep_in_the_same_period_is_a_no_op_and_a_lost_requeue_is_retried_a_period_later(
    database_url: str, pg: psycopg.Connection[Any]
) -> None:
    rid = reckoning(pg, Status.PAID, idle_s=STALE_S + 1)
    assert recovery.requeue_stale(db.database(), with_fakes().policy.generation_stale_after_s) == 1
    assert (
        recovery.requeue_stale(db.database(), with_fakes().policy.generation_stale_after_s) == 0
    )  # in flight: not twice
    age(pg, STALE_S)  # a whole period later, still nobody claimed it: that job was lost too
    assert recovery.requeue_stale(db.database(), with_fakes().policy.generation_stale_after_s) == 1
    assert recovery.requeue_stale(db.database(), with_fakes().policy.generation_stale_after_s) == 0
    assert requeued(pg) == [str(rid)] * 2


def test_a_claim_starts_a_new_episode(database_url: str, pg: psycopg.Connection[Any]) -> None:
    # Given stale paid work re-enqueued, then claimed by a worker that died holding its lease
    reckoning(pg, Status.PAID, idle_s=STALE_S + 1)
    assert recovery.requeue_stale(db.database(), with_fakes().policy.generation_stale_after_s) == 1
    pg.execute("UPDATE reckonings SET status = 'generating', attempts = 1, lease_expires_at = now() + interval '1 s'")
    assert recovery.requeue_stale(db.database(), with_fakes().policy.generation_stale_after_s) == 0  # the lease is live
    # When its lease has been over for the stale period
    age(pg, STALE_S + 2)
    # Then it is re-enqueued once more, under a key of its own
    assert recovery.requeue_stale(db.database(), with_fakes().policy.generation_stale_after_s) == 1
    assert count(pg, "outbox") == 2


def test_the_sweeper_sends_requeued_work_to_the_queue_in_the_same_run(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    rid = reckoning(pg, Status.PAID, idle_s=STALE_S + 1)
    result = load_function("sweeper").lambda_handler({"source": "aws.scheduler"}, LambdaContext())
    assert result == {"sent": 1, "failed": 0}
    [message] = aws.sqs().receive_message(QueueUrl=report_queue, WaitTimeSeconds=0)["Messages"]
    assert json.loads(message["Body"]) == {"kind": "generate", "reckoningId": str(rid), "reason": "retry"}
