"""Connections fit for Lambda and for a local multi-threaded server.

In Lambda one container serves one request at a time: one lazily opened
connection, checked before use and reopened when broken. `prepare_threshold=None`
because RDS Proxy multiplexes sessions and prepared statements would leak across
them. Where one process serves concurrent requests (the local stack), a pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from reckoning import config
from reckoning.db.errors import translated

type Connection = psycopg.Connection[DictRow]

_IDLE_CHECK_S = 30.0


class Database:
    def __init__(self, url: str, pool_size: int = 1, connect_timeout_s: int = 5, statement_timeout_ms: int = 5000):
        self._url = url
        self._kwargs: dict[str, Any] = {
            "autocommit": True,  # transactions are explicit, see transaction()
            "prepare_threshold": None,
            "row_factory": dict_row,
            "connect_timeout": connect_timeout_s,
            "options": f"-c statement_timeout={statement_timeout_ms}",
            "application_name": "reckoning",
        }
        self._pool: ConnectionPool[Connection] | None = None
        self._conn: Connection | None = None
        self._last_used = 0.0
        self._lock = threading.Lock()
        if pool_size > 1:
            self._pool = ConnectionPool(
                url,
                min_size=1,
                max_size=pool_size,
                kwargs=self._kwargs,
                connection_class=psycopg.Connection[DictRow],
                check=ConnectionPool.check_connection,
                open=False,
            )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction; commits on success, rolls back on error."""
        with translated():
            if self._pool is not None:
                self._pool.open(wait=False)
                with self._pool.connection() as conn, conn.transaction():
                    yield conn
                return
            with self._lock:
                conn = self._single()
                try:
                    with conn.transaction():
                        yield conn
                finally:
                    self._last_used = time.monotonic()

    def _single(self) -> Connection:
        conn = self._conn
        if conn is not None and not conn.closed and not conn.broken:
            if time.monotonic() - self._last_used < _IDLE_CHECK_S:
                return conn
            try:  # a proxy or server may have dropped an idle connection
                conn.execute("SELECT 1")
                return conn
            except psycopg.Error:
                conn.close()
        self._conn = psycopg.connect(self._url, **self._kwargs)
        return self._conn

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def one(cursor: psycopg.Cursor[DictRow]) -> DictRow:
    """The single row a statement with RETURNING (or an aggregate) must produce."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("statement returned no row")
    return row


_database: Database | None = None
_database_lock = threading.Lock()


def database() -> Database:
    """The process-wide database, opened lazily on first use."""
    global _database
    with _database_lock:
        if _database is None:
            s = config.settings()
            _database = Database(
                config.database_url(), s.db_pool_size, s.db_connect_timeout_s, s.db_statement_timeout_ms
            )
        return _database


def reset_database() -> None:
    """Close and forget the process-wide database (tests switch databases)."""
    global _database
    with _database_lock:
        if _database is not None:
            _database.close()
        _database = None
