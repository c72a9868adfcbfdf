"""The reckonings table: a submitted questionnaire and its lifecycle (sql/reckonings.sql, docs/lifecycle.md).

Every lifecycle write returns whether it changed the row: False means the reckoning was not in a state the
transition may leave (a duplicate event or message, or another worker got there first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from reckoning.db.connection import Connection, one
from reckoning.db.queries import changed, every, first, q
from reckoning.models.status import Status


@dataclass(frozen=True, slots=True)
class Reckoning:
    id: UUID
    email: str
    name: str | None
    status: Status
    status_reason: str | None
    questionnaire_version: str
    answers: dict[str, Any]
    attempts: int
    created_at: datetime
    status_changed_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Reckoning:
        return cls(**{**row, "status": Status(row["status"])})


def insert(conn: Connection, email: str, name: str | None, version: str, answers: dict[str, Any]) -> UUID:
    params = {"email": email, "name": name, "questionnaire_version": version, "answers": Jsonb(answers)}
    return UUID(str(one(conn.execute(q("insert_reckoning"), params))["id"]))


def by_id(conn: Connection, reckoning_id: UUID) -> Reckoning | None:
    return first(conn, "reckoning_by_id", Reckoning.from_row, id=reckoning_id)


def of_address(conn: Connection, email: str) -> list[Reckoning]:
    """The address's paid reckonings (refunded ones too: their data is still theirs to export and erase), oldest
    first."""
    return every(conn, "reckonings_of_address", Reckoning.from_row, email=email)


def mark_paid(conn: Connection, reckoning_id: UUID) -> bool:
    return changed(conn, "mark_paid", id=reckoning_id)


def claim(conn: Connection, reckoning_id: UUID, lease_s: int, reason: str) -> Reckoning | None:
    """The reckoning, now generating under a lease of this worker's; None when it is not claimable."""
    return first(conn, "claim", Reckoning.from_row, id=reckoning_id, lease_s=lease_s, reason=reason)


def release_lease(conn: Connection, reckoning_id: UUID, attempt: int, retry_in_s: int) -> bool:
    """The lease of claim `attempt` ends in `retry_in_s` seconds, when SQS hands the failed message back."""
    return changed(conn, "release_lease", id=reckoning_id, attempt=attempt, retry_in_s=retry_in_s)


def holds_claim(conn: Connection, reckoning_id: UUID, attempt: int) -> bool:
    """Claim `attempt` still stands (generating, claimed by no one since); the row stays locked until commit."""
    return first(conn, "holds_claim", lambda row: True, id=reckoning_id, attempt=attempt) is not None


def finish(conn: Connection, reckoning_id: UUID, attempt: int, status: Status, reason: str | None = None) -> bool:
    """generating → ready or needs_review, by the holder of claim `attempt`."""
    return changed(conn, "finish", id=reckoning_id, attempt=attempt, status=str(status), reason=reason)


def fail(conn: Connection, reckoning_id: UUID, attempt: int, reason: str) -> bool:
    """generating → failed, by the holder of claim `attempt`."""
    return changed(conn, "fail", id=reckoning_id, attempt=attempt, reason=reason)


def fail_unclaimed(conn: Connection, reckoning_id: UUID, reason: str) -> bool:
    """paid, or generating with its lease run out → failed: the last receive ended before a claim."""
    return changed(conn, "fail_unclaimed", id=reckoning_id, reason=reason)


def refund(conn: Connection, reckoning_id: UUID) -> bool:
    return changed(conn, "refund", id=reckoning_id)


def reopen(conn: Connection, reckoning_id: UUID, reason: str, *, only_failed: bool = False) -> bool:
    """Back to paid, for a new report; `only_failed`: only a failed one (a replayed dead letter)."""
    return changed(conn, "reopen_failed" if only_failed else "reopen", id=reckoning_id, reason=reason)


def begin_erasure(conn: Connection, reckoning_id: UUID, reason: str) -> bool:
    """Clear the personal fields: → erasing. False when it is unknown, or erasing or erased already."""
    return changed(conn, "begin_erasure", id=reckoning_id, reason=reason)


def finish_erasure(conn: Connection, reckoning_id: UUID) -> bool:
    return changed(conn, "finish_erasure", id=reckoning_id)


def hold(conn: Connection, reckoning_id: UUID) -> bool:
    """Lock the reckoning for this transaction if it is not being erased; False when it is (or unknown)."""
    return first(conn, "hold", dict, id=reckoning_id) is not None


def stuck_erasures(conn: Connection, older_than_s: int) -> int:
    """How many erasures were asked for over `older_than_s` ago and have not finished."""
    return int(one(conn.execute(q("stuck_erasures"), {"older_than_s": older_than_s}))["n"])


def due_for_erasure(conn: Connection, unpaid_days: int, days: int, limit: int) -> list[UUID]:
    """Erasures to finish, then reckonings kept past their retention, oldest first."""
    return every(
        conn, "due_for_erasure", lambda row: UUID(str(row["id"])), unpaid_days=unpaid_days, days=days, limit=limit
    )


def ids_of_address(conn: Connection, email: str) -> list[UUID]:
    """Every reckoning of the address that is not erased, oldest first."""
    return every(conn, "reckoning_ids_of_address", lambda row: UUID(str(row["id"])), email=email)


@dataclass(frozen=True, slots=True)
class Stale:
    """Work whose job is lost: `since` its job was last relayed, it became paid, or its lease ended (the latest)."""

    id: UUID
    status: Status
    since: datetime
    periods: int  # whole stale periods between `since` and the queue's progress

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Stale:
        return cls(**{**row, "status": Status(row["status"])})


def stale(conn: Connection, stale_s: int, limit: int, *, queue_idle: bool) -> list[Stale]:
    """Lost work, oldest first: behind the queue's progress watermark by a stale period, or (`queue_idle`: the
    queue holds no visible message) behind now."""
    return every(conn, "stale_work", Stale.from_row, stale_s=stale_s, limit=limit, queue_idle=queue_idle)
