"""The status machine of a payment (docs/lifecycle.md): each named transition moves only the states it names,
and a repeat changes nothing (events arrive twice and out of order)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg
import pytest

from reckoning import db
from reckoning.db import payments
from reckoning.models.status import PaymentStatus

EVERY = tuple(PaymentStatus)
Transition = Callable[[db.Connection, UUID], bool]

WRITES: dict[str, Transition] = {
    "mark_processing": lambda c, p: payments.mark_processing(c, p, "pi_1"),
    "mark_paid": lambda c, p: payments.mark_paid(c, p, "pi_1"),
    "mark_failed": payments.mark_failed,
    "expire": payments.expire,
    "refund": payments.refund,
}


def one_in_each_status(pg: psycopg.Connection[Any]) -> dict[PaymentStatus, UUID]:
    """A payment in every status, each of a reckoning of its own."""
    made: dict[PaymentStatus, UUID] = {}
    for n, status in enumerate(EVERY):
        row = pg.execute(
            "WITH r AS (INSERT INTO reckonings (email, questionnaire_version, answers)"
            " VALUES ('a@example.com', '2025-01', '{}') RETURNING id)"
            " INSERT INTO payments (reckoning_id, generation, checkout_session_id, checkout_url, amount, currency,"
            " expires_at, status) SELECT id, 1, %s, 'https://checkout.example', 2900, 'eur', now() + interval '1 hour',"
            " %s FROM r RETURNING id",
            (f"cs_test_{n}", status),
        ).fetchone()
        assert row is not None
        made[status] = row["id"]
    return made


def status_of(pg: psycopg.Connection[Any], payment_id: UUID) -> PaymentStatus:
    row = pg.execute("SELECT status FROM payments WHERE id = %s", (payment_id,)).fetchone()
    assert row is not None
    return PaymentStatus(row["status"])


def test_every_transition_is_in_the_matrix_and_every_status_the_schema_allows_is_covered(
    pg: psycopg.Connection[Any],
) -> None:
    row = pg.execute(
        "SELECT pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c"
        " JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = 'payments' AND c.contype = 'c'"
        " AND pg_get_constraintdef(c.oid) LIKE '%%status%%'"
    ).fetchone()
    assert row is not None
    assert {str(s) for s in EVERY} == set(re.findall(r"'([a-z_]+)'::text", str(row["definition"])))
    assert set(WRITES) == set(payments.TRANSITIONS)


@pytest.mark.parametrize(("name", "status"), [(name, status) for name in WRITES for status in EVERY])
def test_each_transition_moves_only_the_states_it_leaves(
    name: str, status: PaymentStatus, database_url: str, pg: psycopg.Connection[Any]
) -> None:
    leads_to, leaves = payments.TRANSITIONS[name]
    payment_id = one_in_each_status(pg)[status]

    with db.database().transaction() as conn:
        changed = WRITES[name](conn, payment_id)

    assert changed == (status in leaves)
    assert status_of(pg, payment_id) == (leads_to if changed else status)


@pytest.mark.parametrize("name", WRITES)
def test_a_repeated_transition_changes_nothing(name: str, database_url: str, pg: psycopg.Connection[Any]) -> None:
    _, leaves = payments.TRANSITIONS[name]
    payment_id = one_in_each_status(pg)[next(iter(leaves))]
    with db.database().transaction() as conn:
        assert WRITES[name](conn, payment_id)
    with db.database().transaction() as conn:
        assert not WRITES[name](conn, payment_id)
