"""Fixed-window rate limits per client IP and route.

Writes (every method but GET) are counted in PostgreSQL: one UPSERT, sent as a statement of its own, so the
limit holds across every container. Reads are counted in this container's memory and write nothing: a report
poll (up to 600 a minute per client) would otherwise make the cheapest route the busiest writer. A client
spread over n warm containers gets at most n times the limit; the API stage's route throttling caps the read
routes as a whole (template.yaml), and a read is one indexed SELECT (docs/decisions.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from reckoning import errors
from reckoning.db import rate_limits
from reckoning.dependencies import Dependencies, Policy
from reckoning.domain.services.digests import digest


def limit_for(s: Policy, route_key: str) -> int:
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


def _hit(deps: Dependencies, route_key: str, client: str) -> tuple[int, int]:
    bucket = f"{route_key}|{digest(deps.keys, client)}"  # the client IP is personal data: its keyed digest only
    with deps.database.connection() as conn:
        return rate_limits.hit(conn, bucket, deps.policy.rate_limit_window_s)


class ReadCounter:
    """Requests per (route, client) in the current window, in this process's memory only."""

    def __init__(self) -> None:
        self._window = -1
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()  # the local stack serves requests from several threads

    def hit(self, route_key: str, client: str, window_s: int, now: float | None = None) -> tuple[int, int]:
        """Count one request: (count in this window, seconds until the window resets)."""
        now = time.time() if now is None else now
        window = int(now // window_s)
        with self._lock:
            if window != self._window:  # a new window: the old counts go, so memory holds one window's clients
                self._window, self._counts = window, {}
            key = (route_key, client)
            count = self._counts[key] = self._counts.get(key, 0) + 1
        return count, max(1, int((window + 1) * window_s - now))


reads = ReadCounter()


def check(deps: Dependencies, route_key: str, client: str) -> None:
    if route_key.startswith("GET "):
        count, resets_in = reads.hit(route_key, client, deps.policy.rate_limit_window_s)
    else:
        count, resets_in = _hit(deps, route_key, client)
    if count > limit_for(deps.policy, route_key):
        raise errors.RateLimited(resets_in)


def limiter(deps: Callable[[], Dependencies]) -> Callable[[str, str], None]:
    """The rate-limit hook for `reckoning.http.create_app`."""
    return lambda route_key, client: check(deps(), route_key, client)
