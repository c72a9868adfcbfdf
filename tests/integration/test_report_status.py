"""GET /api/report/{token} before the report exists: status and polling hints."""

from typing import Any

import psycopg
import pytest

from reckoning.domain.report import retry_after
from tests.helpers import invoke, submission, without_request_id


def submit() -> str:
    token: str = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())[2]["data"][
        "token"
    ]
    return token


def fetch(token: str) -> tuple[int, dict[str, str], Any]:
    return invoke("report", "GET", f"/api/report/{token}", "GET /api/report/{token}", path_parameters={"token": token})


def test_a_new_reckoning_awaits_payment_with_a_polling_hint(database_url: str) -> None:
    status, headers, body = fetch(submit())
    assert status == 200
    assert body["data"]["status"] == "awaiting_payment"
    assert body["data"]["retryAfterSeconds"] == int(headers["Retry-After"]) > 0
    assert "report" not in body["data"]
    assert headers["Cache-Control"] == "no-store"


def test_the_hint_grows_with_time_in_the_state_and_is_capped() -> None:
    hints = [retry_after("generating", s) for s in (0, 30, 120, 600, 6000)]
    assert hints == sorted(hints)
    assert hints[0] < hints[-1] == 30
    assert retry_after("awaiting_payment", 0) > retry_after("generating", 0)


def test_hint_follows_the_database_clock(database_url: str, pg: psycopg.Connection[Any]) -> None:
    token = submit()
    pg.execute("UPDATE reckonings SET status = 'generating'")
    fresh = fetch(token)[2]["data"]["retryAfterSeconds"]
    pg.execute("ALTER TABLE reckonings DISABLE TRIGGER reckonings_status_update")
    pg.execute("UPDATE reckonings SET status_changed_at = now() - interval '10 minutes'")
    later = fetch(token)[2]["data"]["retryAfterSeconds"]
    assert fresh < later


@pytest.mark.parametrize("status", ["failed", "needs_review"])
def test_terminal_states_are_reported_plainly(status: str, database_url: str, pg: psycopg.Connection[Any]) -> None:
    token = submit()
    pg.execute("UPDATE reckonings SET status = %s", (status,))
    code, headers, body = fetch(token)
    assert code == 200
    assert body["data"]["status"] == status
    assert body["data"]["message"]
    assert "Retry-After" not in headers
    if status == "failed":  # DESIGN §3: the poll succeeds; the data carries the error
        assert body["data"]["error"] == {"code": "GENERATION_FAILED", "message": body["data"]["message"]}
    else:
        assert "error" not in body["data"]


def test_unknown_malformed_expired_and_revoked_tokens_are_one_identical_404(
    database_url: str, pg: psycopg.Connection[Any]
) -> None:
    expired, revoked = submit(), submit()
    pg.execute(
        "UPDATE access_tokens SET expires_at = now() - interval '1 second' "
        "WHERE reckoning_id = (SELECT id FROM reckonings ORDER BY created_at LIMIT 1)"
    )
    pg.execute(
        "UPDATE access_tokens SET revoked_at = now() "
        "WHERE reckoning_id = (SELECT id FROM reckonings ORDER BY created_at DESC LIMIT 1)"
    )
    responses = [fetch(t) for t in ("A" * 43, "not-a-token", "%2e%2e", expired, revoked)]
    assert {r[0] for r in responses} == {404}
    bodies = {str(without_request_id(r[2])) for r in responses}
    assert len(bodies) == 1
    assert without_request_id(responses[0][2]) == {
        "success": False,
        "error": {"code": "NOT_FOUND", "message": "Not found."},
    }
    assert len({r[2]["error"]["requestId"] for r in responses}) == len(responses)  # each answer's own
