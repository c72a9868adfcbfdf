"""The named SQL: one file per table or aggregate, each writing only what its header says."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from reckoning.db.queries import _all, parse

SQL = sorted(
    (resource for resource in files("reckoning.db").joinpath("sql").iterdir() if resource.name.endswith(".sql")),
    key=lambda resource: resource.name,
)
_WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE | re.MULTILINE)
_HEADER = re.compile(r"^-- Writes: (.+?)\.", re.MULTILINE)


def _declared(text: str) -> set[str]:
    header = _HEADER.search(text.split("-- name:")[0])
    assert header, "the file starts with `-- Writes: <tables>.` (or `-- Writes: nothing.`)"
    return set() if header.group(1) == "nothing" else set(re.findall(r"\w+", header.group(1)))


@pytest.mark.parametrize("resource", SQL, ids=lambda resource: resource.name)
def test_each_file_writes_only_the_tables_its_header_names(resource: object) -> None:
    text = resource.read_text()  # type: ignore[attr-defined]
    written = {match.group(1) for body in parse(text).values() for match in _WRITE.finditer(body)}
    assert written <= _declared(text)
    assert _declared(text) <= written | {"nothing"}


def test_every_update_of_a_reckoning_is_in_reckonings_sql() -> None:
    updating = {name for name, body in _all().items() if re.search(r"^\s*UPDATE reckonings\b", body, re.MULTILINE)}
    reckonings = set(parse(files("reckoning.db").joinpath("sql", "reckonings.sql").read_text()))
    assert updating and updating <= reckonings


def test_the_timeline_only_reads() -> None:
    text = files("reckoning.db").joinpath("sql", "timeline.sql").read_text()
    assert _declared(text) == set()
    assert all(body.lstrip().upper().startswith("SELECT") for body in parse(text).values())


def test_a_name_defined_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        parse("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;\n")
