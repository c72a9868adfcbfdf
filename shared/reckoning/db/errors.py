"""The one place psycopg errors become domain errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg

from reckoning import errors


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except pg.UniqueViolation as exc:
        raise errors.Conflict(exc.diag.constraint_name or "unique violation") from exc
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        # Down, slow, or refused for now (timeouts, lock waits, deadlocks and serialisation failures are
        # OperationalErrors too): trying again later can succeed.
        raise errors.ServiceUnavailable(type(exc).__name__) from exc
