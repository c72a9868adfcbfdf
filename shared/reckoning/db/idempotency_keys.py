"""The idempotency_keys table: a key per route, in flight or completed with its first answer
(sql/idempotency_keys.sql).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from reckoning.db.connection import Connection
from reckoning.db.queries import changed, count, first


@dataclass(frozen=True, slots=True)
class Key:
    scope: str
    key_digest: bytes
    request_digest: bytes


@dataclass(frozen=True, slots=True)
class Held:
    """A key someone else holds: the digest of its request, and its sealed answer once completed."""

    request_digest: bytes
    response: bytes | None
    lease_left_s: int


def _ids(key: Key) -> dict[str, object]:
    return {"scope": key.scope, "key_digest": key.key_digest, "request_digest": key.request_digest}


def claim(conn: Connection, key: Key, lease_s: int) -> bool:
    """Take the key for this request: True when it was free (or its holder's lease had run out)."""
    return first(conn, "claim_idempotency_key", lambda row: bool(row["claimed"]), lease_s=lease_s, **_ids(key)) or False


def held(conn: Connection, key: Key) -> Held | None:
    def build(row: Mapping[str, Any]) -> Held:
        response = row["response"]
        return Held(
            bytes(row["request_digest"]), None if response is None else bytes(response), int(row["lease_left_s"])
        )

    return first(conn, "idempotency_key", build, scope=key.scope, key_digest=key.key_digest)


def complete(conn: Connection, key: Key, response: bytes, reckoning_id: UUID | None) -> bool:
    return changed(conn, "complete_idempotency_key", response=response, reckoning_id=reckoning_id, **_ids(key))


def release(conn: Connection, key: Key) -> bool:
    return changed(conn, "release_idempotency_key", **_ids(key))


def prune(conn: Connection, older_than_s: int) -> int:
    return count(conn, "prune_idempotency_keys", older_than_s=older_than_s)
