from typing import Any

import psycopg

from tests.helpers import count, invoke, submission

SUBMIT = ("submit", "POST", "/api/reckoning", "POST /api/reckoning")


def post(body: Any, **kw: Any) -> tuple[int, dict[str, str], Any]:
    return invoke(*SUBMIT, body=body, **kw)


def test_submit_stores_the_reckoning_and_returns_a_token(pg: psycopg.Connection[Any]) -> None:
    status, headers, body = post(submission())
    assert status == 201
    data = body["data"]
    assert data["status"] == "awaiting_payment"
    assert data["reportUrl"] == f"/api/report/{data['token']}"
    assert count(pg, "reckonings") == 1
    assert count(pg, "access_tokens") == 1
    assert headers["Cache-Control"] == "no-store"
