"""Through PgBouncer in transaction mode, the stand-in for RDS Proxy: what it refuses, and what must not leak.

PgBouncer, like RDS Proxy, refuses a startup packet that carries `options`, and in transaction mode hands
each transaction whichever server session is free, so session state set by one client reaches another.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from reckoning import config, db
from reckoning.db.connection import Database
from tests.conftest import PROXY
from tests.helpers import Env, invoke, submission
from tests.servers import PgBouncer, pgbouncer_binary


def test_startup_options_are_refused_and_our_connections_are_served(pgbouncer: PgBouncer, database_url: str) -> None:
    url = pgbouncer.url(database_url)
    # What db/connection.py used to send: RDS Proxy refuses it the same way.
    with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter: options"):
        psycopg.connect(url, options="-c statement_timeout=5000")
    database = Database(url)
    with database.transaction() as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == {"statement_timeout": "5s"}
    database.close()


@pytest.fixture
def one_session(server_url: str) -> Iterator[PgBouncer]:
    """PgBouncer with one server session per database, so every client's transactions share it."""
    binary = pgbouncer_binary()
    if binary is None:
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    bouncer = PgBouncer(binary, server_url, pool_size=1).start()
    yield bouncer
    bouncer.stop()  # closes the server session, and whatever state a test left on it


def session_state(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """What a server session carries from one transaction to the next."""
    query = (
        "SELECT (SELECT array_agg(name ORDER BY name) FROM pg_settings WHERE source = 'session') AS settings,"
        " (SELECT count(*) FROM pg_prepared_statements) AS prepared,"
        " (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks,"
        " (SELECT count(*) FROM pg_listening_channels()) AS channels,"
        " (SELECT count(*) FROM pg_cursors) AS cursors"
    )
    row = conn.execute(query).fetchone()
    assert row is not None
    return {"settings": row[0], "prepared": row[1], "advisory_locks": row[2], "channels": row[3], "cursors": row[4]}


def test_session_state_set_by_one_client_reaches_the_next_so_we_set_none(
    one_session: PgBouncer, database_url: str, env: Env
) -> None:
    url = one_session.url(database_url)
    with psycopg.connect(url, autocommit=True) as other:
        pid = other.execute("SELECT pg_backend_pid()").fetchone()
        # A whole request of ours through the proxy leaves the server session as it found it.
        env(DATABASE_URL=url)
        db.reset_database()
        assert invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())[0] == 201
        db.reset_database()
        assert other.execute("SELECT pg_backend_pid()").fetchone() == pid  # the same server session
        assert session_state(other) == {
            "settings": None,
            "prepared": 0,
            "advisory_locks": 0,
            "channels": 0,
            "cursors": 0,
        }

        with psycopg.connect(url, autocommit=True) as first:
            # SET LOCAL ends with its transaction: the next client sees the database default.
            with first.transaction():
                first.execute("SELECT set_config('statement_timeout', '1234ms', true)")
            assert other.execute("SHOW statement_timeout").fetchone() == ("5s",)
            # A session SET leaks to another client: the hazard the stand-in shows as RDS Proxy would (unpinned).
            first.execute("SET statement_timeout = '1234ms'")
            assert other.execute("SHOW statement_timeout").fetchone() == ("1234ms",)


def test_the_proxied_pass_goes_through_pgbouncer(database_url: str, request: pytest.FixtureRequest) -> None:
    if not PROXY:
        pytest.skip("only in the proxied pass (RECKONING_TEST_PROXY=pgbouncer)")
    bouncer: PgBouncer = request.getfixturevalue("pgbouncer")
    assert psycopg.conninfo.conninfo_to_dict(database_url)["port"] == str(bouncer.port)
    assert psycopg.conninfo.conninfo_to_dict(config.database_url())["port"] == str(bouncer.port)
