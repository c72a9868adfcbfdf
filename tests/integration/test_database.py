"""Database access as RDS Proxy needs it: no startup parameters, the timeout a database default, bounded waits."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from reckoning import db, errors
from reckoning.db import connection
from reckoning.db.connection import Database
from reckoning.db.migrate import discover, migrate
from tests.helpers import Env, invoke, submission
from tests.servers import StartupRecorder, free_port

TOKEN = "x" * 43  # well-formed, so each route must ask the database
BROWSER_ROUTES = {  # (function, method, path, route key, body, path parameters)
    "submit": ("submit", "POST", "/api/reckoning", "POST /api/reckoning", submission(), None),
    "checkout": ("checkout", "POST", "/api/checkout", "POST /api/checkout", {"token": TOKEN}, None),
    "report status": ("report", "GET", f"/api/report/{TOKEN}", "GET /api/report/{token}", None, {"token": TOKEN}),
    "report pdf": ("report", "GET", f"/api/report/{TOKEN}/pdf", "GET /api/report/{token}/pdf", None, {"token": TOKEN}),
    "links": ("report", "POST", "/api/report/links", "POST /api/report/links", {"email": "ada@example.com"}, None),
}


def test_no_connection_sends_startup_parameters_beyond_user_and_database(env: Env) -> None:
    with StartupRecorder() as recorder:
        url = f"postgresql://app@127.0.0.1:{recorder.port}/reckoning"
        for pool_size in ("1", "4"):  # Lambda's single connection, the local stack's pool
            env(DATABASE_URL=url, DB_CONNECT_TIMEOUT_S="1", DB_POOL_SIZE=pool_size)  # the pool's wait: bounded
            db.reset_database()
            with pytest.raises(errors.ServiceUnavailable), db.database().transaction():
                pass
        db.reset_database()
        with pytest.raises(psycopg.OperationalError, match="recorded and refused"):
            migrate(url)
    assert len(recorder.startups) >= 3
    assert all(startup == {"user": "app", "database": "reckoning"} for startup in recorder.startups)


def test_application_statements_are_bounded_by_a_default_of_the_database(database_url: str) -> None:
    with db.database().transaction() as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == {"statement_timeout": "5s"}


def test_migrations_lift_the_timeout_for_their_own_transactions(database_url: str, tmp_path: Path) -> None:
    for migration in discover():
        (tmp_path / migration.name).write_text(migration.sql)
    (tmp_path / "9999_check.sql").write_text(
        "DO $$ BEGIN IF current_setting('statement_timeout') <> '0' THEN"
        " RAISE EXCEPTION 'statement_timeout is %', current_setting('statement_timeout'); END IF; END $$;"
    )
    assert migrate(database_url, tmp_path) == ["9999_check.sql"]


def test_a_statement_past_the_timeout_is_service_unavailable(database_url: str) -> None:
    with pytest.raises(errors.ServiceUnavailable, match="QueryCanceled"), db.database().transaction() as conn:
        conn.execute("SET LOCAL statement_timeout = '50ms'")  # a shorter bound, to keep the test fast
        conn.execute("SELECT pg_sleep(1)")


def test_the_pool_waits_for_a_connection_no_longer_than_the_connect_timeout() -> None:
    database = Database(f"postgresql://app@127.0.0.1:{free_port()}/reckoning", pool_size=4, connect_timeout_s=1)
    start = time.monotonic()
    with pytest.raises(errors.ServiceUnavailable, match="PoolTimeout"), database.transaction():
        pass
    elapsed = time.monotonic() - start
    database.close()
    print(f"\npool wait with the database down and connect_timeout=1 s: {elapsed:.2f} s (psycopg_pool default 30 s)")
    assert elapsed < 5


def test_with_the_database_down_every_browser_route_of_a_lambda_answers_503(env: Env) -> None:
    env(DATABASE_URL=f"postgresql://app@127.0.0.1:{free_port()}/reckoning")  # nothing listens
    print("\n503 with the database down (Lambda: one connection per container, default settings):")
    for name, (function, method, path, route_key, body, parameters) in BROWSER_ROUTES.items():
        db.reset_database()
        start = time.monotonic()
        status, headers, answer = invoke(function, method, path, route_key, body=body, path_parameters=parameters)
        elapsed = time.monotonic() - start
        print(f"  {name:<14} {status} after {elapsed:.3f} s")
        assert (status, answer["error"]["code"]) == (503, "SERVICE_UNAVAILABLE"), name
        assert int(headers["Retry-After"]) > 0, name
        assert elapsed < 10, name
    db.reset_database()


def test_the_pool_checks_a_connection_only_after_it_was_idle_as_lambdas_single_connection_does(
    server_url: str,
) -> None:
    # Straight to PostgreSQL: through a transaction pooler a backend pid names a server connection it shares.
    with psycopg.connect(server_url, autocommit=True, row_factory=dict_row) as conn:
        backend = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()
        assert backend is not None
        with psycopg.connect(server_url, autocommit=True) as admin:  # dropped while idle, as a proxy may
            admin.execute("SELECT pg_terminate_backend(%s)", (backend["pid"],))

        connection._last_used[conn] = time.monotonic()
        connection._check_if_idle(conn)  # in steady use: lent without a round trip (a failure would show on use)
        connection._last_used[conn] = time.monotonic() - connection._IDLE_CHECK_S
        with pytest.raises(psycopg.OperationalError):
            connection._check_if_idle(conn)  # idle long enough: checked, and the pool replaces it
