"""The migration runner: ordered, checksummed, idempotent, one runner at a time; and the schema it builds is
the committed snapshot, constraints, indexes, functions and triggers included."""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from reckoning.db.migrate import MigrationError, default_directory, discover, migrate
from tests import schema

ROOT = Path(__file__).resolve().parents[2]


def test_migrations_are_named_and_ordered() -> None:
    versions = [m.version for m in discover()]
    assert versions == sorted(versions)
    assert versions[0] == "0001"


def test_all_migrations_apply_to_an_empty_database_in_order(empty_database_url: str) -> None:
    assert migrate(empty_database_url) == [m.name for m in discover()]


@contextmanager
def direct_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """A database of its own on the test server, reached directly (pg_dump is no client for a pooler)."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        server_major = admin.info.server_version // 10000
        if server_major != schema.pg_dump_major():
            pytest.skip(f"the snapshot is PostgreSQL {schema.pg_dump_major()}'s dump; this server is {server_major}")
        name = f"t_{uuid.uuid4().hex[:12]}"
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        admin.execute(create)
    info = psycopg.conninfo.conninfo_to_dict(server_url) | {"dbname": name}
    try:
        yield psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items() if v is not None})
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def assert_matches_the_snapshot(url: str) -> None:
    assert schema.SNAPSHOT.is_file(), "tests/schema.sql is missing: `make schema-snapshot` writes it"
    diff = schema.differences(schema.dump(url))
    assert not diff, f"the migrations build another schema than tests/schema.sql (`make schema-snapshot`):\n{diff}"


def test_the_migrated_schema_is_the_committed_snapshot(server_url: str) -> None:
    with direct_database(server_url) as url:
        migrate(url)
        assert_matches_the_snapshot(url)


# Each changes one kind of object in a new migration; the snapshot must notice (the last line it shows).
SCHEMA_CHANGES = {
    "check": (
        "ALTER TABLE payments DROP CONSTRAINT payments_amount_check,"
        " ADD CONSTRAINT payments_amount_check CHECK (amount > 0);",
        "+    CONSTRAINT payments_amount_check CHECK ((amount > 0)),",
    ),
    "foreign key": (
        "ALTER TABLE access_tokens DROP CONSTRAINT access_tokens_reckoning_id_fkey, ADD CONSTRAINT"
        " access_tokens_reckoning_id_fkey FOREIGN KEY (reckoning_id) REFERENCES reckonings (id) ON DELETE RESTRICT;",
        "ON DELETE RESTRICT;",
    ),
    "unique": ("ALTER TABLE emails ADD CONSTRAINT throwaway_unique UNIQUE (kind, reckoning_id);", "throwaway_unique"),
    "index": ("CREATE INDEX throwaway_idx ON reckonings (created_at);", "throwaway_idx"),
    "trigger": (
        "CREATE TRIGGER throwaway_trigger AFTER DELETE ON reckonings"
        " FOR EACH ROW EXECUTE FUNCTION record_reckoning_status();",
        "throwaway_trigger",
    ),
    "function body": (
        "CREATE OR REPLACE FUNCTION record_reckoning_status() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RETURN NEW; END; $$;",
        "-    IF TG_OP = 'INSERT' THEN",
    ),
}


@pytest.mark.parametrize(("change", "shown"), SCHEMA_CHANGES.values(), ids=SCHEMA_CHANGES.keys())
def test_a_new_migration_the_snapshot_does_not_hold_fails_the_suite(
    server_url: str, template_url: str, tmp_path: Path, change: str, shown: str
) -> None:
    for migration in discover():
        (tmp_path / migration.name).write_text(migration.sql)
    (tmp_path / "9999_throwaway.sql").write_text(change)

    template = str(psycopg.conninfo.conninfo_to_dict(template_url)["dbname"])
    with direct_database(server_url, template) as url:
        assert migrate(url, tmp_path) == ["9999_throwaway.sql"]
        with pytest.raises(AssertionError, match="another schema") as failure:
            assert_matches_the_snapshot(url)

    assert shown in str(failure.value)


def test_running_again_applies_nothing(empty_database_url: str) -> None:
    migrate(empty_database_url)
    assert migrate(empty_database_url) == []


def test_an_edited_migration_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    for migration in discover():
        (tmp_path / migration.name).write_text(migration.sql)
    migrate(empty_database_url, tmp_path)
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- an innocent edit\n")
    with pytest.raises(MigrationError, match="edited"):
        migrate(empty_database_url, tmp_path)


def test_a_new_migration_is_applied_after_the_old_ones(empty_database_url: str, tmp_path: Path) -> None:
    for migration in discover():
        (tmp_path / migration.name).write_text(migration.sql)
    migrate(empty_database_url, tmp_path)
    (tmp_path / "9999_add_note.sql").write_text("ALTER TABLE reckonings ADD COLUMN note text;")
    assert migrate(empty_database_url, tmp_path) == ["9999_add_note.sql"]


def test_a_failing_migration_leaves_no_trace(empty_database_url: str, tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE a (id int);")
    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE b (id int); SELECT * FROM missing_table;")
    with pytest.raises(psycopg.errors.UndefinedTable):
        migrate(empty_database_url, tmp_path)
    with psycopg.connect(empty_database_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert "b" not in tables and versions == ["0001"]


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "1_init.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_slug"):
        discover(tmp_path)


def test_concurrent_runners_apply_each_migration_once(empty_database_url: str, tmp_path: Path) -> None:
    # A slow migration: without the advisory lock the second runner would apply it again and fail.
    (tmp_path / "0001_slow.sql").write_text("SELECT pg_sleep(0.5); CREATE TABLE once (id int);")
    results: list[Any] = []

    def run() -> None:
        try:
            results.append(migrate(empty_database_url, tmp_path))
        except Exception as exc:  # collected for the assertion below
            results.append(exc)

    # Daemons with a bounded wait: a lock that is never released (a session lock through a transaction
    # pooler, taken on one server session and "released" on another) must fail the test, not hang it.
    threads = [threading.Thread(target=run, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a runner is still waiting for the lock"
    assert sorted(results, key=len) == [[], [], ["0001_slow.sql"]]


def test_the_packaged_migrations_are_the_repository_folder_in_a_development_install() -> None:
    assert Path(str(default_directory())) == ROOT / "database" / "migrations"
    assert [m.name for m in discover()] == sorted(p.name for p in (ROOT / "database" / "migrations").glob("*.sql"))
