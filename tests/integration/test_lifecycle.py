"""The status machine of a reckoning (docs/lifecycle.md): which write moves which status where, and that a
write which does not apply says so and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg
import pytest

from reckoning import db
from reckoning.db import reckonings
from reckoning.models.status import Status

S = Status
EVERY = tuple(Status)
Write = Callable[[db.Connection, UUID], bool]

# write -> (the statuses it may leave, the status it leads to). The worker's writes name its claim: `attempts` is
# 0 in these rows, as no claim was made (test_a_workers_writes_apply_only_while_its_claim_stands for others).
TRANSITIONS: dict[str, tuple[Write, set[Status], Status]] = {
    "mark_paid": (reckonings.mark_paid, {S.AWAITING_PAYMENT}, S.PAID),
    "claim": (lambda c, r: reckonings.claim(c, r, 60, "payment") is not None, {S.PAID}, S.GENERATING),
    "finish ready": (lambda c, r: reckonings.finish(c, r, 0, S.READY), {S.GENERATING}, S.READY),
    "finish held": (lambda c, r: reckonings.finish(c, r, 0, S.NEEDS_REVIEW, "x"), {S.GENERATING}, S.NEEDS_REVIEW),
    "fail": (lambda c, r: reckonings.fail(c, r, 0, "x"), {S.GENERATING}, S.FAILED),
    # The last receive before a claim: never a reckoning another worker holds a live lease on.
    "fail unclaimed": (lambda c, r: reckonings.fail_unclaimed(c, r, "x"), {S.PAID}, S.FAILED),
    "refund": (reckonings.refund, set(EVERY) - {S.REFUNDED, S.ERASING, S.ERASED}, S.REFUNDED),
    # Never while a worker holds a live lease (it would release and email its version too).
    "reopen": (lambda c, r: reckonings.reopen(c, r, "x"), {S.PAID, S.READY, S.FAILED, S.NEEDS_REVIEW}, S.PAID),
    "reopen failed": (lambda c, r: reckonings.reopen(c, r, "x", only_failed=True), {S.FAILED}, S.PAID),
    # Erasure: from any status, once; then finished when the stored objects are gone (docs/privacy.md).
    "begin erasure": (lambda c, r: reckonings.begin_erasure(c, r, "x"), set(EVERY) - {S.ERASING, S.ERASED}, S.ERASING),
    "finish erasure": (reckonings.finish_erasure, {S.ERASING}, S.ERASED),
}


def test_the_matrix_covers_every_status_the_schema_allows(pg: psycopg.Connection[Any]) -> None:
    row = pg.execute(
        "SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conname = 'reckonings_status_check'"
    ).fetchone()
    assert row is not None
    assert {str(status) for status in EVERY} == set(re.findall(r"'([a-z_]+)'::text", str(row["definition"])))


def one_in_each_status(pg: psycopg.Connection[Any]) -> dict[Status, UUID]:
    """A reckoning in every status (a generating one holds a live lease)."""
    made: dict[Status, UUID] = {}
    for status in EVERY:
        row = pg.execute(
            "INSERT INTO reckonings (email, questionnaire_version, answers, status, lease_expires_at)"
            " VALUES ('a@example.com', '2025-01', '{}', %s, now() + interval '1 hour') RETURNING id",
            (status,),
        ).fetchone()
        assert row is not None
        made[status] = row["id"]
    return made


def status_of(pg: psycopg.Connection[Any], reckoning_id: UUID) -> Status:
    row = pg.execute("SELECT status FROM reckonings WHERE id = %s", (reckoning_id,)).fetchone()
    assert row is not None
    return Status(row["status"])


@pytest.mark.parametrize("name", TRANSITIONS)
def test_each_write_moves_only_the_statuses_it_may_leave(
    name: str, database_url: str, pg: psycopg.Connection[Any]
) -> None:
    write, leaves, leads_to = TRANSITIONS[name]
    reckoning_of = one_in_each_status(pg)
    for status, reckoning_id in reckoning_of.items():
        with db.database().transaction() as conn:
            changed = write(conn, reckoning_id)
        assert changed == (status in leaves), f"{name} from {status}"
        assert status_of(pg, reckoning_id) == (leads_to if changed else status), f"{name} from {status}"


@pytest.mark.parametrize("name", TRANSITIONS)
def test_a_repeated_write_does_not_apply_twice(name: str, database_url: str, pg: psycopg.Connection[Any]) -> None:
    write, leaves, _ = TRANSITIONS[name]
    reckoning_id = one_in_each_status(pg)[next(iter(leaves))]
    with db.database().transaction() as conn:
        assert write(conn, reckoning_id)
    with db.database().transaction() as conn:
        again = write(conn, reckoning_id)
    # Only a reopen lands on a status it may leave again (paid); a second one changes nothing visible either.
    assert not again or name == "reopen"


def test_a_generating_reckoning_is_claimed_again_once_its_lease_ran_out(
    database_url: str, pg: psycopg.Connection[Any]
) -> None:
    reckoning_id = one_in_each_status(pg)[S.GENERATING]
    with db.database().transaction() as conn:
        assert reckonings.claim(conn, reckoning_id, 60, "retry") is None  # a live lease: another worker has it
        assert reckonings.release_lease(conn, reckoning_id, 0, 0)
    with db.database().transaction() as conn:
        claimed = reckonings.claim(conn, reckoning_id, 60, "retry")
    assert claimed is not None and claimed.status == S.GENERATING and claimed.attempts == 1


def test_a_released_lease_ends_when_sqs_hands_the_message_back(database_url: str, pg: psycopg.Connection[Any]) -> None:
    reckoning_id = one_in_each_status(pg)[S.GENERATING]
    with db.database().transaction() as conn:
        assert reckonings.release_lease(conn, reckoning_id, 0, 240)
    row = pg.execute("SELECT lease_expires_at - now() AS left FROM reckonings WHERE id = %s", (reckoning_id,))
    left = row.fetchone()
    assert left is not None and 239 <= left["left"].total_seconds() <= 240
    with db.database().transaction() as conn:
        assert reckonings.claim(conn, reckoning_id, 60, "retry") is None  # not before then


def test_a_workers_writes_apply_only_while_its_claim_stands(database_url: str, pg: psycopg.Connection[Any]) -> None:
    # Given a reckoning claimed twice (the first worker's lease ran out and another took it over)
    reckoning_id = one_in_each_status(pg)[S.PAID]
    with db.database().transaction() as conn:
        first = reckonings.claim(conn, reckoning_id, 60, "payment")
        assert first is not None and reckonings.release_lease(conn, reckoning_id, first.attempts, 0)
    with db.database().transaction() as conn:
        second = reckonings.claim(conn, reckoning_id, 60, "retry")
    assert second is not None and second.attempts == first.attempts + 1
    # Then the first worker's writes change nothing, the second's do
    with db.database().transaction() as conn:
        assert not reckonings.holds_claim(conn, reckoning_id, first.attempts)
        assert not reckonings.release_lease(conn, reckoning_id, first.attempts, 0)
        assert not reckonings.fail(conn, reckoning_id, first.attempts, "x")
        assert not reckonings.finish(conn, reckoning_id, first.attempts, S.READY)
        assert reckonings.holds_claim(conn, reckoning_id, second.attempts)
        assert reckonings.finish(conn, reckoning_id, second.attempts, S.READY)
    assert status_of(pg, reckoning_id) == S.READY


def test_an_expired_lease_may_be_reopened_or_given_up(database_url: str, pg: psycopg.Connection[Any]) -> None:
    reopened, given_up = one_in_each_status(pg)[S.GENERATING], one_in_each_status(pg)[S.GENERATING]
    pg.execute("UPDATE reckonings SET lease_expires_at = now() - interval '1 second' WHERE status = 'generating'")
    with db.database().transaction() as conn:
        assert reckonings.reopen(conn, reopened, "x")
        assert reckonings.fail_unclaimed(conn, given_up, "x")
    assert (status_of(pg, reopened), status_of(pg, given_up)) == (S.PAID, S.FAILED)


def test_finishing_leads_only_to_ready_or_held(database_url: str, pg: psycopg.Connection[Any]) -> None:
    reckoning_id = one_in_each_status(pg)[S.GENERATING]
    for elsewhere in set(EVERY) - {S.READY, S.NEEDS_REVIEW}:
        with db.database().transaction() as conn:
            assert not reckonings.finish(conn, reckoning_id, 0, elsewhere)
    assert status_of(pg, reckoning_id) == S.GENERATING


def test_only_a_generating_reckoning_has_a_lease_to_release(database_url: str, pg: psycopg.Connection[Any]) -> None:
    for status, reckoning_id in one_in_each_status(pg).items():
        with db.database().transaction() as conn:
            assert reckonings.release_lease(conn, reckoning_id, 0, 0) == (status == S.GENERATING)


def test_every_change_of_status_is_recorded_with_its_reason(database_url: str, pg: psycopg.Connection[Any]) -> None:
    reckoning_id = one_in_each_status(pg)[S.AWAITING_PAYMENT]
    with db.database().transaction() as conn:
        reckonings.mark_paid(conn, reckoning_id)
        reckonings.fail_unclaimed(conn, reckoning_id, "gave up after the last receive")
        reckonings.fail_unclaimed(conn, reckoning_id, "a repeat changes nothing")
    rows = pg.execute(
        "SELECT from_status, to_status, reason FROM reckoning_events WHERE reckoning_id = %s ORDER BY id",
        (reckoning_id,),
    ).fetchall()
    assert [(r["from_status"], r["to_status"], r["reason"]) for r in rows] == [
        (None, "awaiting_payment", None),
        ("awaiting_payment", "paid", "payment"),
        ("paid", "failed", "gave up after the last receive"),
    ]
