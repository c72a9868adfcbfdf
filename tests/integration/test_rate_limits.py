"""Rate limits: reads are counted in the container and write nothing; writes keep their per-IP limit in PostgreSQL."""

from typing import Any

import psycopg

from reckoning.rate_limit import ReadCounter
from tests.helpers import Env, count, invoke, submission


def poll(token: str, source_ip: str = "203.0.113.7") -> tuple[int, dict[str, str], Any]:
    path, route = f"/api/report/{token}", "GET /api/report/{token}"
    return invoke("report", "GET", path, route, path_parameters={"token": token}, source_ip=source_ip)


def test_report_polls_write_nothing_and_are_limited_per_ip(pg: psycopg.Connection[Any], env: Env) -> None:
    token = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())[2]["data"]["token"]
    pg.execute("DELETE FROM rate_limits")  # the submission's own counter
    env(RATE_LIMIT_REPORT="3")

    assert [poll(token)[0] for _ in range(3)] == [200, 200, 200]
    status, headers, body = poll(token)

    assert (status, body["error"]["code"]) == (429, "RATE_LIMITED")
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert poll(token, source_ip="198.51.100.1")[0] == 200  # another client is unaffected
    assert count(pg, "rate_limits") == 0


def test_the_pdf_route_and_the_questionnaire_are_reads_too(pg: psycopg.Connection[Any], env: Env) -> None:
    env(RATE_LIMIT_DEFAULT="1", RATE_LIMIT_REPORT="1")
    question = ("submit", "GET", "/api/questionnaire", "GET /api/questionnaire")
    assert [invoke(*question)[0] for _ in range(2)] == [200, 429]
    pdf = ("report", "GET", f"/api/report/{'x' * 43}/pdf", "GET /api/report/{token}/pdf")
    assert [invoke(*pdf, path_parameters={"token": "x" * 43})[0] for _ in range(2)] == [404, 429]
    assert count(pg, "rate_limits") == 0


def test_writes_are_counted_in_the_database(pg: psycopg.Connection[Any], env: Env) -> None:
    env(RATE_LIMIT_CHECKOUT="1")
    checkout = ("checkout", "POST", "/api/checkout", "POST /api/checkout")
    assert [invoke(*checkout, body={"token": "x" * 43})[0] for _ in range(2)] == [404, 429]
    rows = pg.execute("SELECT bucket, count FROM rate_limits").fetchall()
    assert [(row["bucket"].split("|")[0], row["count"]) for row in rows] == [("POST /api/checkout", 2)]


def test_a_read_window_counts_per_route_and_client_and_starts_empty() -> None:
    counter = ReadCounter()
    hits = [
        counter.hit("GET /x", "1.2.3.4", 60, now=150.0),
        counter.hit("GET /y", "1.2.3.4", 60, now=151.0),  # another route
        counter.hit("GET /x", "5.6.7.8", 60, now=152.0),  # another client
        counter.hit("GET /x", "1.2.3.4", 60, now=179.5),
        counter.hit("GET /x", "1.2.3.4", 60, now=180.0),  # the next window
    ]
    assert hits == [(1, 30), (1, 29), (1, 28), (2, 1), (1, 60)]
