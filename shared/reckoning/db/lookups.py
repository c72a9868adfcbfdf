"""Read-only: reckonings found from an address or a Stripe id, for on-call (sql/lookups.sql)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from reckoning.db.connection import Connection
from reckoning.db.queries import every
from reckoning.models.status import Status


@dataclass(frozen=True, slots=True)
class Found:
    """What on-call may see of a reckoning it looked for: its id, status and dates, nothing personal."""

    id: UUID
    status: Status
    created_at: datetime
    paid_at: datetime | None
    ready_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Found:
        return cls(**{**row, "status": Status(row["status"])})


def by_email(conn: Connection, email: str) -> list[Found]:
    return every(conn, "found_by_email", Found.from_row, email=email)


def by_stripe_id(conn: Connection, stripe_id: str) -> list[Found]:
    """By a Checkout session id (`cs_…`) or a payment intent id (`pi_…`)."""
    return every(conn, "found_by_stripe_id", Found.from_row, stripe_id=stripe_id)
