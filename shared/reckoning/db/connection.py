"""Connections fit for Lambda behind RDS Proxy, and for a local multi-threaded server.

RDS Proxy (like PgBouncer in transaction mode) refuses startup parameters such as `options` and may run each
transaction on another server session. So a connection sends none (user and database only), relies on no
session state, and leaves the statement timeout to the database's own default (migration 0002); prepared
statements stay off (`prepare_threshold=None`: psycopg then sends unnamed statements, which the proxy
multiplexes). TLS settings come from config (verify-full in production). A failed authentication re-reads the
secret once and tries again, so a rotated password does not break a warm container.

In Lambda one container serves one request at a time: one lazily opened connection, checked before use and
reopened when broken. Where one process serves concurrent requests (the local stack), a pool whose wait for a
connection is bounded by the connect timeout, so a database that is down gives a 503 in seconds.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import DictRow, dict_row

from reckoning import config
from reckoning.db.errors import translated
from reckoning.observability import logger

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

type Connection = psycopg.Connection[DictRow]
type UrlSource = Callable[[bool], str]  # fresh=True: re-read the credentials

_IDLE_CHECK_S = 30.0


class Database:
    def __init__(
        self,
        url: str | UrlSource,
        pool_size: int = 1,
        connect_timeout_s: int = 5,
        tls: Mapping[str, str] | None = None,
    ):
        self._url: UrlSource = url if callable(url) else lambda fresh: url
        self._kwargs: dict[str, Any] = {
            "autocommit": True,  # transactions are explicit, see transaction()
            "prepare_threshold": None,
            "row_factory": dict_row,
            "connect_timeout": connect_timeout_s,
            **(tls or {}),
        }
        self._pool: ConnectionPool[Connection] | None = None
        self._conn: Connection | None = None
        self._last_used = 0.0
        self._lock = threading.Lock()
        if pool_size > 1:  # only where one process serves many requests: Lambda never imports the pool
            from psycopg_pool import ConnectionPool

            self._pool = ConnectionPool(
                self._url(False),
                min_size=1,
                max_size=pool_size,
                kwargs=self._kwargs,
                connection_class=psycopg.Connection[DictRow],
                check=_check_if_idle,
                timeout=float(connect_timeout_s),  # the pool waits 30 s by default: a 503 must come sooner
                open=False,
            )

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction; commits on success, rolls back on error."""
        with self.connection() as conn, conn.transaction():
            yield conn

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection outside any transaction, where each statement commits on its own (autocommit).

        For work that is one statement: one round trip, where `transaction()` adds a BEGIN and a COMMIT.
        """
        with translated():
            if self._pool is not None:
                self._pool.open(wait=False)
                with self._pool.connection() as conn:
                    yield conn
                    _last_used[conn] = time.monotonic()
                return
            with self._lock:
                conn = self._single()
                try:
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
        self._conn = self._connect()
        return self._conn

    def _connect(self) -> Connection:
        try:
            return psycopg.connect(self._url(False), **self._kwargs)
        except psycopg.OperationalError as exc:
            if not authentication_failed(exc):
                raise
        # The password may have been rotated since the secret was cached: read it afresh, try once more.
        logger.warning("database authentication failed; re-reading the database secret once")
        return psycopg.connect(self._url(True), **self._kwargs)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# When each pooled connection was last given back: a connection in steady use needs no check.
_last_used: weakref.WeakKeyDictionary[Connection, float] = weakref.WeakKeyDictionary()


def _check_if_idle(conn: Connection) -> None:
    """The pool's check before lending a connection: a round trip only for one idle for a while (a proxy or
    server may have dropped it); a connection in steady use would otherwise pay one per transaction."""
    from psycopg_pool import ConnectionPool

    if time.monotonic() - _last_used.get(conn, 0.0) >= _IDLE_CHECK_S:
        ConnectionPool.check_connection(conn)


def authentication_failed(exc: psycopg.OperationalError) -> bool:
    """A refused password (SQLSTATE 28P01). libpq keeps no SQLSTATE for a failed connection, only the
    server's message: PostgreSQL says "password authentication failed", PgBouncer "SASL authentication failed"."""
    return exc.sqlstate == "28P01" or "authentication failed" in str(exc)


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
            _database = Database(config.database_url, s.db_pool_size, s.db_connect_timeout_s, config.database_tls())
        return _database


def reset_database() -> None:
    """Close and forget the process-wide database (tests switch databases)."""
    global _database
    with _database_lock:
        if _database is not None:
            _database.close()
        _database = None
