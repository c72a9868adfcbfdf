"""Migration runner: ordered, checksummed, append-only, one runner at a time.

`database/migrations/NNNN_slug.sql` files are applied in order, each in its own
transaction with its row in `schema_migrations`. A landed migration whose file
changed is refused. Concurrent runners are serialised by a transaction-scoped
advisory lock taken at the start of each migration's transaction: through a
transaction-pooling proxy (RDS Proxy, PgBouncer) a session lock could be taken on
one server session and released on another, and RDS Proxy pins sessions that
take one; a transaction lock is released by its own COMMIT or ROLLBACK.

The files ship inside the package as `reckoning.migrations` (pyproject.toml maps
that package to `database/migrations`), so an installed `reckoning` migrates
without the repository.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

import psycopg
from psycopg.rows import DictRow, dict_row

_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK_KEY = 7_204_318_511  # arbitrary, constant: the advisory lock of this runner
PACKAGE = "reckoning.migrations"


class MigrationError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def default_directory() -> Traversable:
    """The migrations that ship with the installed package (the repository folder in a development install)."""
    return files(PACKAGE)


def discover(directory: Traversable | None = None) -> list[Migration]:
    found: list[Migration] = []
    sql_files = [entry for entry in (directory or default_directory()).iterdir() if entry.name.endswith(".sql")]
    for entry in sorted(sql_files, key=lambda entry: entry.name):
        match = _FILE.match(entry.name)
        if not match:
            raise MigrationError(f"{entry.name}: expected NNNN_slug.sql")
        found.append(Migration(match.group(1), entry.name, entry.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migrations share a version number")
    return found


def migrate(url: str, directory: Traversable | None = None) -> list[str]:
    """Apply pending migrations; return the names applied (empty when up to date)."""
    migrations = discover(directory)
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True, row_factory=dict_row, prepare_threshold=None) as conn:
        for migration in migrations:
            with conn.transaction():
                # Under the lock, what is applied cannot change: another runner may just have applied this one.
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                # Migrations may run long; the database's statement timeout is meant for application traffic.
                conn.execute("SET LOCAL statement_timeout = 0")
                if migration.version in _applied(conn, migrations):
                    continue
                conn.execute(migration.sql)  # trusted code from the repository
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            applied_now.append(migration.name)
    return applied_now


def _applied(conn: psycopg.Connection[DictRow], migrations: list[Migration]) -> set[str]:
    """The versions already applied; refuses any landed migration whose file changed since."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())"
    )
    rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    landed = {row["version"]: row["checksum"] for row in rows}
    for migration in migrations:
        if landed.get(migration.version, migration.checksum) != migration.checksum:
            raise MigrationError(f"{migration.name} was edited after it was applied; add a new migration")
    return set(landed)
