"""The migration runner: ordered, checksummed, idempotent, one runner at a time."""

import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reckoning.db.migrate import MigrationError, default_directory, discover, migrate

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "schema_snapshot.txt"


def schema(url: str) -> str:
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '') "
            "FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname"
        ).fetchall()
    return "\n".join([" | ".join(map(str, row)) for row in columns] + [row[0] for row in indexes]) + "\n"


def test_migrations_are_named_and_ordered() -> None:
    versions = [m.version for m in discover()]
    assert versions == sorted(versions)
    assert versions[0] == "0001"


def test_all_migrations_on_an_empty_database_match_the_schema_snapshot(empty_database_url: str) -> None:
    applied = migrate(empty_database_url)
    assert applied == [m.name for m in discover()]
    actual = schema(empty_database_url)
    if not SNAPSHOT.exists():  # first run writes it; review and commit the file
        SNAPSHOT.write_text(actual)
    assert actual == SNAPSHOT.read_text(), "schema drifted: update tests/schema_snapshot.txt with a new migration"


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
