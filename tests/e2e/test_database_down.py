"""DESIGN §3 with the database down: every browser route answers 503 SERVICE_UNAVAILABLE with Retry-After
within 10 s, also on the local stack, whose pool would otherwise make a request wait 30 s for a connection."""

from __future__ import annotations

import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from reckoning_local import client
from tests.conftest import StartStack
from tests.helpers import submission
from tests.servers import free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

TOKEN = secrets.token_urlsafe(32)  # well-formed, so the route must ask the database about it
BROWSER_ROUTES: dict[str, tuple[str, str, Any]] = {
    "submit": ("POST", "/api/reckoning", submission()),
    "checkout": ("POST", "/api/checkout", {"token": TOKEN}),
    "report status": ("GET", f"/api/report/{TOKEN}", None),
    "report pdf": ("GET", f"/api/report/{TOKEN}/pdf", None),
    "links": ("POST", "/api/report/links", {"email": "ada@example.com"}),
}


def test_every_browser_route_answers_503_within_10_s_when_the_database_is_down(
    start_stack: StartStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://app@127.0.0.1:{free_port()}/reckoning")  # nothing listens
    stack = start_stack(pollers=False)

    def timed(route: tuple[str, str, Any]) -> tuple[client.HttpResult, float]:
        method, path, body = route
        start = time.monotonic()
        result = client.request(method, stack.url + path, json_body=body, timeout_s=60)
        return result, time.monotonic() - start

    with ThreadPoolExecutor(len(BROWSER_ROUTES)) as pool:  # at once: the defaults' waits overlap
        answers = dict(zip(BROWSER_ROUTES, pool.map(timed, BROWSER_ROUTES.values()), strict=True))

    print("\n503 with the database down (local stack, pool, default settings):")
    for name, (result, seconds) in answers.items():
        print(f"  {name:<14} {result.status} after {seconds:.2f} s")
    for name, (result, seconds) in answers.items():
        assert (result.status, result.error["code"]) == (503, "SERVICE_UNAVAILABLE"), name
        assert int(result.headers["retry-after"]) > 0, name
        assert seconds < 10, name  # DESIGN §3's promise, not a benchmark
