"""Named SQL, loaded once from `sql/*.sql` blocks that start with `-- name: <name>`."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from typing import LiteralString

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    parts = _NAME.split(text)
    named: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in named:
            raise ValueError(f"query {name!r} defined twice")
        named[name] = body.strip()
    return named


@cache
def _all() -> dict[str, str]:
    named: dict[str, str] = {}
    for resource in sorted(files("reckoning.db").joinpath("sql").iterdir(), key=lambda r: r.name):
        if resource.name.endswith(".sql"):
            for name, body in parse(resource.read_text()).items():
                if name in named:
                    raise ValueError(f"query {name!r} defined twice")
                named[name] = body
    return named


def q(name: str) -> LiteralString:
    """The named statement (package files are trusted code, not user input)."""
    return _all()[name]
