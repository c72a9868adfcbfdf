"""The Idempotency-Key header of POST /api/reckoning and POST /api/checkout: one effect per key and body."""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from reckoning import db
from reckoning.domain import sweep
from reckoning.domain.services import idempotency
from tests.helpers import Env, count, invoke, submission, with_fakes

SUBMIT = ("submit", "POST", "/api/reckoning", "POST /api/reckoning")
CHECKOUT = ("checkout", "POST", "/api/checkout", "POST /api/checkout")


def post(route: tuple[str, str, str, str], body: Any, key: str | None) -> tuple[int, dict[str, str], Any]:
    return invoke(*route, body=body, headers={"Idempotency-Key": key} if key else None)


def test_the_same_key_and_body_create_one_reckoning_and_answer_the_same_token(pg: psycopg.Connection[Any]) -> None:
    key = str(uuid.uuid4())
    first = post(SUBMIT, submission(), key)
    again = post(SUBMIT, submission(), key)

    assert (first[0], again[0]) == (201, 201)
    assert again[2] == first[2]
    assert "Idempotent-Replayed" not in first[1]
    assert again[1]["Idempotent-Replayed"] == "true"
    assert count(pg, "reckonings") == count(pg, "access_tokens") == 1


def test_another_body_under_the_key_is_a_conflict_and_changes_nothing(pg: psycopg.Connection[Any]) -> None:
    key = str(uuid.uuid4())
    post(SUBMIT, submission(), key)
    status, _, body = post(SUBMIT, submission(name="Grace"), key)

    assert (status, body["error"]["code"]) == (409, "CONFLICT")
    assert "another request body" in body["error"]["message"]
    assert count(pg, "reckonings") == 1


def test_without_a_key_every_request_is_its_own(pg: psycopg.Connection[Any]) -> None:
    assert [post(SUBMIT, submission(), None)[0] for _ in range(2)] == [201, 201]
    assert count(pg, "reckonings") == 2
    assert count(pg, "idempotency_keys") == 0


def test_a_key_is_scoped_to_its_route(pg: psycopg.Connection[Any]) -> None:
    key = str(uuid.uuid4())
    token = post(SUBMIT, submission(), key)[2]["data"]["token"]
    status, headers, _ = post(CHECKOUT, {"token": token}, key)  # the same key on another route: a request of its own
    assert (status, headers.get("Idempotent-Replayed")) == (200, None)


def test_a_key_in_flight_is_a_conflict_with_retry_after(pg: psycopg.Connection[Any]) -> None:
    key = str(uuid.uuid4())
    hold(pg, key, submission(), lease_s=20)

    status, headers, body = post(SUBMIT, submission(), key)

    assert (status, body["error"]["code"]) == (409, "CONFLICT")
    assert "still being processed" in body["error"]["message"]
    assert 1 <= int(headers["Retry-After"]) <= 5
    assert count(pg, "reckonings") == 0


def test_a_key_whose_holder_crashed_is_taken_over_once_its_lease_ran_out(pg: psycopg.Connection[Any]) -> None:
    key = str(uuid.uuid4())
    hold(pg, key, submission(), lease_s=-1)

    status, headers, _ = post(SUBMIT, submission(), key)

    assert (status, headers.get("Idempotent-Replayed")) == (201, None)
    assert count(pg, "reckonings") == 1
    assert pg.execute("SELECT completed_at IS NOT NULL AS done FROM idempotency_keys").fetchone() == {"done": True}


def test_a_refused_request_keeps_no_key_and_its_retry_runs_again(pg: psycopg.Connection[Any]) -> None:
    key = str(uuid.uuid4())
    bad = submission(answers={**submission()["answers"], "life_overall": 99})
    assert post(SUBMIT, bad, key)[0] == 400
    assert count(pg, "idempotency_keys") == 0
    token = post(SUBMIT, submission(), None)[2]["data"]["token"]
    pg.execute("UPDATE reckonings SET status = 'paid'")
    assert post(CHECKOUT, {"token": token}, key)[0] == 409  # paid already: refused, and the key released
    assert count(pg, "idempotency_keys") == 0


@pytest.mark.parametrize("key", ["short", "x" * 256, "has a space in it!", "ключ-ключ-ключ-ключ"])
def test_a_malformed_key_is_a_validation_error(pg: psycopg.Connection[Any], key: str) -> None:
    status, _, body = post(SUBMIT, submission(), key)
    assert (status, body["error"]["details"][0]["field"]) == (400, "Idempotency-Key")
    assert count(pg, "reckonings") == 0


def test_the_stored_answer_reveals_neither_the_key_nor_the_token(pg: psycopg.Connection[Any]) -> None:
    key = str(uuid.uuid4())
    token = post(SUBMIT, submission(), key)[2]["data"]["token"]
    row = pg.execute("SELECT key_digest, response FROM idempotency_keys").fetchone()
    assert row is not None
    assert bytes(row["key_digest"]) == hashlib.sha256(key.encode()).digest()
    stored = bytes(row["response"])
    assert token.encode() not in stored and key.encode() not in stored


@pytest.mark.parametrize("where", [1, 20, -1], ids=["nonce", "ciphertext", "tag"])
def test_a_stored_answer_altered_in_the_database_is_refused_not_replayed(
    pg: psycopg.Connection[Any], where: int
) -> None:
    key = str(uuid.uuid4())
    first = post(SUBMIT, submission(), key)
    stored = bytearray(bytes(pg.execute("SELECT response FROM idempotency_keys").fetchone()["response"]))  # type: ignore[index]
    stored[where] ^= 0x01  # one bit flipped: a stream cipher alone would replay a changed answer
    pg.execute("UPDATE idempotency_keys SET response = %s", (bytes(stored),))

    status, _, body = post(SUBMIT, submission(), key)

    assert first[0] == 201 and status == 409 and body["error"]["code"] == "CONFLICT"
    assert count(pg, "reckonings") == 1


def test_checkout_with_a_key_answers_the_first_session_again(pg: psycopg.Connection[Any]) -> None:
    token = post(SUBMIT, submission(), None)[2]["data"]["token"]
    key = str(uuid.uuid4())
    first, again = post(CHECKOUT, {"token": token}, key), post(CHECKOUT, {"token": token}, key)
    assert (first[0], again[0], again[1]["Idempotent-Replayed"]) == (200, 200, "true")
    assert again[2] == first[2]
    assert count(pg, "payments") == 1


def test_the_sweeper_prunes_keys_older_than_a_day(pg: psycopg.Connection[Any]) -> None:
    post(SUBMIT, submission(), str(uuid.uuid4()))
    old = str(uuid.uuid4())
    post(SUBMIT, submission(name="Old"), old)
    pg.execute(
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key_digest = %s",
        (hashlib.sha256(old.encode()).digest(),),
    )

    sweep.sweep(with_fakes(queue=NoQueue()))

    assert count(pg, "idempotency_keys") == 1


class NoQueue:
    def send(self, messages: Any, delay_s: int = 0) -> set[str]:
        return set()

    def waiting(self) -> int:
        return 0


def hold(pg: psycopg.Connection[Any], key: str, body: dict[str, Any], lease_s: int) -> None:
    """A key claimed by another request (in flight) whose lease ends `lease_s` from now."""
    from reckoning.models.api import SubmitRequest

    request = idempotency.request("POST /api/reckoning", key, SubmitRequest.model_validate(body))
    assert request is not None
    pg.execute(
        "INSERT INTO idempotency_keys (scope, key_digest, request_digest, lease_expires_at)"
        " VALUES (%s, %s, %s, now() + make_interval(secs => %s))",
        (request.key.scope, request.key.key_digest, request.key.request_digest, lease_s),
    )


def test_concurrent_retries_with_one_key_create_one_reckoning(pg: psycopg.Connection[Any], env: Env) -> None:
    env(DB_POOL_SIZE="4")  # concurrent requests on connections of their own, as concurrent Lambdas
    db.reset_database()
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: post(SUBMIT, submission(), key), range(6)))

    statuses = sorted(status for status, _, _ in answers)
    assert set(statuses) <= {201, 409} and statuses[0] == 201
    tokens = {body["data"]["token"] for status, _, body in answers if status == 201}
    assert len(tokens) == 1
    assert count(pg, "reckonings") == 1
    db.reset_database()
