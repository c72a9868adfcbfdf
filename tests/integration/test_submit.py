"""POST /api/reckoning and GET /api/questionnaire through the submit function's handler."""

from typing import Any

import psycopg
import pytest

from tests.helpers import Env, count, invoke, submission

SUBMIT = ("submit", "POST", "/api/reckoning", "POST /api/reckoning")


def post(body: Any, **kw: Any) -> tuple[int, dict[str, str], Any]:
    return invoke(*SUBMIT, body=body, **kw)


def nothing_written(pg: psycopg.Connection[Any]) -> bool:
    return count(pg, "reckonings") == 0 and count(pg, "access_tokens") == 0


def test_questionnaire_is_served_for_frontends(database_url: str) -> None:
    status, headers, body = invoke("submit", "GET", "/api/questionnaire", "GET /api/questionnaire")
    assert status == 200
    data = body["data"]
    assert data["version"] and data["questions"]
    scale = next(q for q in data["questions"] if q["type"] == "scale")
    assert {"id", "prompt", "required", "min", "max"} <= set(scale)
    text = next(q for q in data["questions"] if q["type"] == "text")
    assert {"minLength", "maxLength"} <= set(text)
    assert headers["Cache-Control"].startswith("public")


def test_submit_stores_the_reckoning_and_returns_a_token(pg: psycopg.Connection[Any]) -> None:
    status, headers, body = post(submission())
    assert status == 201
    data = body["data"]
    assert data["status"] == "awaiting_payment"
    assert data["reportUrl"] == f"/api/report/{data['token']}"
    row = pg.execute("SELECT email, name, status, answers->>'main_obstacle' AS obstacle FROM reckonings").fetchone()
    assert row == {"email": "ada@example.com", "name": "Ada", "status": "awaiting_payment", "obstacle": "fear"}
    token_row = pg.execute("SELECT length(token_hash) AS n, purpose FROM access_tokens").fetchone()
    assert token_row == {"n": 32, "purpose": "report"}
    assert headers["Cache-Control"] == "no-store"


def test_the_token_itself_is_never_stored(pg: psycopg.Connection[Any]) -> None:
    token = post(submission())[2]["data"]["token"]
    dump = pg.execute("SELECT (SELECT string_agg(t::text, ' ') FROM access_tokens t) AS a").fetchone()
    assert dump is not None and token not in str(dump["a"])


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (submission(email="not-an-email"), {"email"}),
        (submission(email="a@b"), {"email"}),
        (submission(consent=False), {"consent"}),
        ({k: v for k, v in submission().items() if k != "consent"}, {"consent"}),
        ({k: v for k, v in submission().items() if k != "answers"}, {"answers"}),
        (submission(name="x" * 101), {"name"}),
        (submission(name="Ada\x00"), {"name"}),
        (submission(extra="field"), {"extra"}),
        (submission(answers={"bogus": 1}), None),
        (submission(questionnaireVersion="1999-01"), {"questionnaireVersion"}),
        ([1, 2, 3], {"body"}),
    ],
)
def test_invalid_bodies_get_400_with_field_details_and_change_nothing(
    body: Any, fields: set[str] | None, pg: psycopg.Connection[Any]
) -> None:
    status, _, response = post(body)
    assert status == 400
    assert response["success"] is False
    assert response["error"]["code"] == "VALIDATION_ERROR"
    details = response["error"]["details"]
    assert all(set(d) == {"field", "message"} for d in details)
    if fields is not None:
        assert {d["field"] for d in details} == fields
    assert nothing_written(pg)


def test_answer_problems_are_reported_per_question(pg: psycopg.Connection[Any]) -> None:
    answers = dict(submission()["answers"], life_overall=11, bogus="x")
    del answers["proud_of"]
    status, _, response = post(submission(answers=answers))
    assert status == 400
    assert {d["field"] for d in response["error"]["details"]} == {
        "answers.life_overall",
        "answers.bogus",
        "answers.proud_of",
    }
    assert nothing_written(pg)


def test_malformed_json_is_400(pg: psycopg.Connection[Any]) -> None:
    status, _, response = post('{"email": ')
    assert (status, response["error"]["code"]) == (400, "VALIDATION_ERROR")
    assert nothing_written(pg)


def test_non_json_content_type_is_415(pg: psycopg.Connection[Any]) -> None:
    status, _, response = post("email=a@b.c", headers={"content-type": "application/x-www-form-urlencoded"})
    assert (status, response["error"]["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert nothing_written(pg)


def test_bodies_over_64_kib_are_413(pg: psycopg.Connection[Any]) -> None:
    big = submission(answers=dict(submission()["answers"], proud_of="x" * (65 * 1024)))
    status, _, response = post(big)
    assert (status, response["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert nothing_written(pg)


def test_submissions_are_rate_limited_per_ip(pg: psycopg.Connection[Any], env: Env) -> None:
    env(RATE_LIMIT_SUBMIT="2")
    assert [post(submission())[0] for _ in range(2)] == [201, 201]
    status, headers, response = post(submission())
    assert (status, response["error"]["code"]) == (429, "RATE_LIMITED")
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert post(submission(), source_ip="198.51.100.1")[0] == 201  # another client is unaffected
    assert count(pg, "reckonings") == 3


def test_database_down_is_503_with_retry_after(env: Env, database_url: str) -> None:
    from reckoning import db

    env(DATABASE_URL="postgresql://nobody@127.0.0.1:9/none?connect_timeout=1")
    db.reset_database()
    status, headers, response = post(submission())
    assert (status, response["error"]["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert int(headers["Retry-After"]) > 0
