"""The rate_limits table: request counters per bucket and fixed window (sql/rate_limits.sql)."""

from __future__ import annotations

from reckoning.db.connection import Connection, one
from reckoning.db.queries import count, q


def hit(conn: Connection, bucket: str, window_s: int) -> tuple[int, int]:
    """Count one request in the bucket's current window: (count so far, seconds until the window resets)."""
    row = one(conn.execute(q("hit_rate_limit"), {"bucket": bucket, "window_s": window_s}))
    return int(row["count"]), max(1, int(row["resets_in"]))


def prune(conn: Connection, older_than_s: int) -> int:
    """Delete the counters of windows that started more than `older_than_s` ago; how many went."""
    return count(conn, "prune_rate_limits", older_than_s=older_than_s)
