"""Fixed-window rate limits per client IP and route, counted in PostgreSQL (one UPSERT)."""

from __future__ import annotations

from collections.abc import Callable

from reckoning import db, errors
from reckoning.config import settings
from reckoning.db import rate_limits
from reckoning.domain.digests import digest

# Counters are pruned this long after their window started (or two windows, if windows are longer).
KEEP_S = 24 * 3600


def limit_for(route_key: str) -> int:
    s = settings()
    match route_key:
        case "POST /api/reckoning" | "DELETE /api/report/{token}":  # the writes of a person
            return s.rate_limit_submit
        case "POST /api/checkout":
            return s.rate_limit_checkout
        case "POST /api/report/links":
            return s.rate_limit_links
        case _ if route_key.startswith("GET /api/report/"):
            return s.rate_limit_report
        case _:
            return s.rate_limit_default


def bucket(route_key: str, client: str) -> str:
    # The client IP is personal data: keep a keyed digest, not the address.
    return f"{route_key}|{digest(client)}"


def _hit(database: db.Database, scope: str, client: str) -> tuple[int, int]:
    with database.transaction() as conn:
        return rate_limits.hit(conn, bucket(scope, client), settings().rate_limit_window_s)


def check(database: db.Database, route_key: str, client: str) -> None:
    count, resets_in = _hit(database, route_key, client)
    if count > limit_for(route_key):
        raise errors.RateLimited(resets_in)


def exceeded(database: db.Database, scope: str, key: str, limit: int) -> bool:
    """Count one use of `key` in `scope`; True when over the limit (for limits that must not be visible)."""
    return _hit(database, scope, key)[0] > limit


def prune(database: db.Database) -> int:
    """Forget the counters of windows long gone; how many went."""
    with database.transaction() as conn:
        return rate_limits.prune(conn, max(KEEP_S, 2 * settings().rate_limit_window_s))


def limiter(database: Callable[[], db.Database]) -> Callable[[str, str], None]:
    """The rate-limit hook for `reckoning.http.create_app`."""
    return lambda route_key, client: check(database(), route_key, client)
