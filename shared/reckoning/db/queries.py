"""Named SQL, loaded once from `sql/*.sql` blocks that start with `-- name: <name>`, and the ways to run it.

Reads hand back typed rows built at the boundary (`build` is a row class's `from_row`); writes say whether
they changed a row, so a caller can treat a no-op as the error it may be.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Any, LiteralString

from psycopg.rows import DictRow

from reckoning.db.connection import Connection

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    parts = _NAME.split(text)
    named = {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}
    if len(named) != len(parts) // 2:
        raise ValueError("a query name is defined twice")
    return named


@cache
def _all() -> dict[str, str]:
    """Every file's queries; a name is unique across files, so a query is found by its name alone."""
    named: dict[str, str] = {}
    sql = [resource for resource in files("reckoning.db").joinpath("sql").iterdir() if resource.name.endswith(".sql")]
    for resource in sorted(sql, key=lambda r: r.name):
        for name, body in parse(resource.read_text()).items():
            if named.setdefault(name, body) is not body:
                raise ValueError(f"query {name!r} defined twice")
    return named


def q(name: str) -> LiteralString:
    """The named statement (package files are trusted code, not user input)."""
    return _all()[name]


def first[T](conn: Connection, name: str, build: Callable[[DictRow], T], **params: Any) -> T | None:
    """The first row of a read, typed; None when there is none."""
    row = conn.execute(q(name), params).fetchone()
    return None if row is None else build(row)


def every[T](conn: Connection, name: str, build: Callable[[DictRow], T], **params: Any) -> list[T]:
    return [build(row) for row in conn.execute(q(name), params).fetchall()]


def changed(conn: Connection, name: str, **params: Any) -> bool:
    """Run a write; whether it changed a row (False: a conditional update that did not apply)."""
    return count(conn, name, **params) > 0


def count(conn: Connection, name: str, **params: Any) -> int:
    """Run a write; how many rows it changed."""
    return conn.execute(q(name), params).rowcount
