"""The sweeper finds lost work again (paid and unclaimed, or generating with a lease long ended), once per episode,
and never re-enqueues work that is only waiting in the queue behind the concurrency cap."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import psycopg
import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from reckoning import db, worker
from reckoning.db import queue_progress
from reckoning.domain import generate
from reckoning.domain import sweep as sweep_module
from reckoning.domain.services import recovery
from reckoning.models.job import GenerateJob, wire
from reckoning.models.status import Status
from reckoning.providers import aws
from reckoning_local.events import LambdaContext, sqs_event
from tests.helpers import Env, count, load_function, with_fakes

STALE_S = 300


class Queue:
    """The report queue as the sweeper sees it: how many messages wait (0: idle)."""

    def __init__(self, waiting: int = 0) -> None:
        self.depth = waiting

    def waiting(self) -> int:
        return self.depth


IDLE = Queue()


def sweep(queue: Queue = IDLE) -> int:
    return recovery.requeue_stale(db.database(), queue, with_fakes().policy.generation_stale_after_s)  # type: ignore[arg-type]


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


def relay(pg: psycopg.Connection[Any]) -> None:
    """The outbox relay sent every pending message (now)."""
    pg.execute("UPDATE outbox SET sent_at = now() WHERE sent_at IS NULL")


def age(pg: psycopg.Connection[Any], seconds: int) -> None:
    """Everything happened `seconds` earlier (the database's clock cannot be moved, the data can)."""
    pg.execute(
        "UPDATE reckonings SET status_changed_at = status_changed_at - make_interval(secs => %(s)s),"
        " lease_expires_at = lease_expires_at - make_interval(secs => %(s)s)",
        {"s": seconds},
    )
    pg.execute("UPDATE outbox SET sent_at = sent_at - make_interval(secs => %(s)s)", {"s": seconds})


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
    assert sweep() == 2
    assert sorted(requeued(pg)) == sorted([str(stale_paid), str(stale_generating)])
    payload = pg.execute("SELECT payload FROM outbox LIMIT 1").fetchone()
    assert payload is not None and payload["payload"]["kind"] == "generate" and payload["payload"]["reason"] == "retry"


def test_a_second_sweep_in_the_same_period_is_a_no_op_and_a_lost_requeue_is_retried_a_period_later(
    database_url: str, pg: psycopg.Connection[Any]
) -> None:
    rid = reckoning(pg, Status.PAID, idle_s=STALE_S + 1)
    assert sweep() == 1
    assert sweep() == 0  # not relayed yet: the relay's, not lost
    relay(pg)
    assert sweep() == 0  # relayed just now: on its way
    age(pg, STALE_S + 1)  # a whole period later, still nobody claimed it and the queue is idle: lost too
    assert sweep() == 1
    assert sweep() == 0
    assert requeued(pg) == [str(rid)] * 2


def test_a_claim_starts_a_new_episode(database_url: str, pg: psycopg.Connection[Any]) -> None:
    # Given stale paid work re-enqueued, then claimed by a worker that died holding its lease
    reckoning(pg, Status.PAID, idle_s=STALE_S + 1)
    assert sweep() == 1
    relay(pg)
    pg.execute("UPDATE reckonings SET status = 'generating', attempts = 1, lease_expires_at = now() + interval '1 s'")
    assert sweep() == 0  # the lease is live
    # When its lease has been over for the stale period
    age(pg, STALE_S + 2)
    # Then it is re-enqueued once more, under a key of its own
    assert sweep() == 1
    assert count(pg, "outbox") == 2


def test_the_sweeper_sends_requeued_work_to_the_queue_in_the_same_run(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    rid = reckoning(pg, Status.PAID, idle_s=STALE_S + 1)
    result = load_function("sweeper").lambda_handler({"source": "aws.scheduler"}, LambdaContext())
    assert result == {"sent": 1, "failed": 0}
    [message] = aws.sqs().receive_message(QueueUrl=report_queue, WaitTimeSeconds=0)["Messages"]
    assert json.loads(message["Body"]) == {"kind": "generate", "reckoningId": str(rid), "reason": "retry"}


# ---------------------------------------------------------------- backlog is not staleness


def backlog(pg: psycopg.Connection[Any], n: int, *, relayed_s_ago: float, spread_s: float) -> list[UUID]:
    """`n` paid reckonings whose jobs the outbox relayed between `relayed_s_ago` and `relayed_s_ago - spread_s`
    seconds ago, oldest first (one statement: thousands in a moment)."""
    rows = pg.execute(
        "WITH made AS ("
        " INSERT INTO reckonings (email, questionnaire_version, answers, status, status_changed_at)"
        " SELECT 'a@example.com', '2025-01', '{}', 'paid',"
        "        now() - make_interval(secs => %(ago)s - %(spread)s * i / %(n)s)"
        " FROM generate_series(0, %(n)s - 1) AS i RETURNING id, status_changed_at)"
        " INSERT INTO outbox (topic, dedupe_key, payload, sent_at)"
        " SELECT 'report_queue', 'payment:' || id, jsonb_build_object('kind', 'generate', 'reckoningId', id::text,"
        "        'reason', 'payment'), status_changed_at FROM made"
        " RETURNING (payload ->> 'reckoningId') AS id, sent_at",
        {"n": n, "ago": relayed_s_ago, "spread": spread_s},
    ).fetchall()
    return [UUID(row["id"]) for row in sorted(rows, key=lambda row: row["sent_at"])]


def progress(pg: psycopg.Connection[Any], sent_s_ago: float) -> None:
    """A worker claimed a job the queue got `sent_s_ago` seconds ago (as `generate.claim` records it)."""
    with db.database().transaction() as conn:
        sent = pg.execute("SELECT now() - make_interval(secs => %s) AS t", (sent_s_ago,)).fetchone()
        assert sent is not None
        queue_progress.advance(conn, sent["t"])


def test_a_backlog_of_waiting_work_gets_no_duplicate_job_however_long_it_waits(
    database_url: str, pg: psycopg.Connection[Any]
) -> None:
    # Given 500 paid orders whose jobs were relayed 2 to 3 hours ago and wait behind the concurrency cap, while
    # the workers get through jobs relayed just before theirs
    waiting = backlog(pg, 500, relayed_s_ago=3 * 3600, spread_s=3600)
    busy = Queue(waiting=500)
    for hours_ago in (3.5, 3.2, 3.1, 3.0):  # the queue's progress, sweep after sweep
        progress(pg, hours_ago * 3600)
        # Then no sweep adds a job for any of them: none is a stale period behind the queue's progress
        assert sweep(busy) == 0
    assert count(pg, "outbox") == len(waiting)
    # And when the workers reach them, those they have passed by a stale period would count as lost
    progress(pg, 3 * 3600 - STALE_S - 3)  # 7.2 s between relays: past the first one only
    assert sweep(busy) == 1 and requeued(pg)[-1] == str(waiting[0])


def test_a_lost_job_behind_a_backlog_of_thousands_is_found_in_the_first_sweep_once_the_queue_passes_it(
    database_url: str, pg: psycopg.Connection[Any]
) -> None:
    # Given a job relayed an hour ago and lost, then 3,000 orders whose jobs wait in the queue behind it
    [lost] = backlog(pg, 1, relayed_s_ago=3600, spread_s=0)
    waiting = backlog(pg, 3000, relayed_s_ago=3600 - 10, spread_s=3000)
    busy = Queue(waiting=3000)
    progress(pg, 3600 - 1)  # the workers are claiming the job relayed right after it: its turn has come
    assert sweep(busy) == 0  # not yet a stale period past it: it may still be on its way to a worker
    # When the queue has got a stale period past it (and 3,000 others still wait, many older than any clock
    # rule's stale period)
    progress(pg, 3600 - STALE_S - 2)
    # Then the first sweep finds it, and only it (no LIMIT of waiting work ahead of it)
    assert sweep(busy) == 1
    assert requeued(pg)[-1] == str(lost)
    assert count(pg, "outbox") == 1 + len(waiting) + 1


def test_an_idle_queue_finds_a_lost_job_a_stale_period_after_its_relay(
    database_url: str, pg: psycopg.Connection[Any]
) -> None:
    [lost] = backlog(pg, 1, relayed_s_ago=STALE_S - 5, spread_s=0)
    assert sweep(IDLE) == 0  # relayed under a stale period ago: on its way
    assert sweep(Queue(waiting=1)) == 0  # with a queue that has not moved (no watermark yet): waiting
    age(pg, 10)
    assert sweep(IDLE) == 1 and requeued(pg)[-1] == str(lost)


def test_a_claim_advances_the_watermark_to_its_messages_sent_timestamp_and_never_back(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    rid = reckoning(pg, Status.PAID, idle_s=1)
    aws.sqs().send_message(QueueUrl=report_queue, MessageBody=json.dumps(wire(GenerateJob(reckoning_id=rid))))
    [message] = aws.sqs().receive_message(
        QueueUrl=report_queue, WaitTimeSeconds=0, MessageSystemAttributeNames=["All"]
    )["Messages"]
    record = SQSRecord(sqs_event([dict(message)], ARN)["Records"][0])
    deps = with_fakes()
    delivery = worker.delivery(record, deps)
    assert delivery.sent_at is not None
    assert generate.claim(deps, GenerateJob(reckoning_id=rid), delivery) is not None
    sent = int(message["Attributes"]["SentTimestamp"]) / 1000
    assert watermark(pg) == pytest.approx(sent, abs=0.001)
    progress(pg, 3600)  # an old message received later (a retry, a waiting job) does not move it back
    assert watermark(pg) == pytest.approx(sent, abs=0.001)


ARN = "arn:aws:sqs:eu-west-1:123456789012:reckoning-reports-test"


def watermark(pg: psycopg.Connection[Any]) -> float:
    row = pg.execute("SELECT extract(epoch FROM sent_watermark)::float AS t FROM queue_progress").fetchone()
    assert row is not None
    return float(row["t"])


def test_the_sweeper_prunes_outbox_messages_sent_over_a_week_ago_and_keeps_the_rest(
    database_url: str, report_queue: str, pg: psycopg.Connection[Any]
) -> None:
    for key, sent_days_ago in (("old", 8), ("recent", 6), ("unsent", None)):
        pg.execute(
            "INSERT INTO outbox (topic, dedupe_key, payload, sent_at) VALUES ('report_queue', %s, '{}',"
            " now() - make_interval(days => %s))",
            (key, sent_days_ago),
        )

    sweep_module.sweep(with_fakes())  # the unsent one is relayed now, and kept

    assert {row["dedupe_key"] for row in pg.execute("SELECT dedupe_key FROM outbox")} == {"recent", "unsent"}
