"""What goes into which artifact: the template's functions and layers joined with `[tool.reckoning.build]`.

The table in pyproject.toml names, per layer and per function, which of
`[project].dependencies` it ships; versions and extras always come from the
dependency specifiers themselves, so the two cannot drift. Every function and
layer of the template must be listed, and every dependency shipped somewhere.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reckoning_local import template as tpl

TABLE = "[tool.reckoning.build]"


class PlanError(ValueError):
    """The template and the dependency table do not agree."""


@dataclass(frozen=True, slots=True)
class Plan:
    root: Path
    template: tpl.Template
    python_version: str  # "3.13", from the functions' Runtime
    architecture: str  # "arm64" or "x86_64", from the functions' Architectures
    requirements: dict[str, tuple[str, ...]]  # by function or layer: specifiers exactly as in [project].dependencies
    package_data: dict[str, tuple[str, ...]]  # [tool.setuptools.package-data]: package → glob patterns


def load(root: Path, template_path: Path | None = None) -> Plan:
    """The plan for `root`'s template.yaml (or `template_path`) and pyproject.toml."""
    template = tpl.load(template_path or root / "template.yaml")
    with (root / "pyproject.toml").open("rb") as handle:
        pyproject = tomllib.load(handle)
    return make(root, template, pyproject)


def make(root: Path, template: tpl.Template, pyproject: Mapping[str, Any]) -> Plan:
    """Join a read template with a parsed pyproject; PlanError when they disagree."""
    table, functions = _table(pyproject), template.functions
    specifiers = _dependencies(pyproject)
    names = {**_names(table, "layers", template.layers), **_names(table, "functions", functions)}
    _every_dependency_shipped(specifiers, names.values())
    return Plan(
        root=root,
        template=template,
        python_version=_python_version(functions.values()),
        architecture=_one("Architectures", {f.architecture for f in functions.values()}),
        requirements={lid: _specifiers(specifiers, shipped, lid) for lid, shipped in names.items()},
        package_data=_package_data(pyproject),
    )


def _table(pyproject: Mapping[str, Any]) -> Mapping[str, Any]:
    table = pyproject.get("tool", {}).get("reckoning", {}).get("build")
    if not isinstance(table, dict):
        raise PlanError(f"pyproject.toml has no {TABLE} table")
    return table


def _dependencies(pyproject: Mapping[str, Any]) -> dict[str, str]:
    """[project].dependencies by canonical distribution name."""
    found: dict[str, str] = {}
    for text in pyproject.get("project", {}).get("dependencies", []):
        try:
            found[canonicalize_name(Requirement(text).name)] = text
        except InvalidRequirement as exc:
            raise PlanError(f"[project].dependencies: {exc}") from exc
    return found


def _names(table: Mapping[str, Any], kind: str, declared: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """`[tool.reckoning.build.<kind>]`, checked to list exactly the template's resources of that kind."""
    listed = table.get(kind, {})
    missing = sorted(set(declared) - set(listed))
    unknown = sorted(set(listed) - set(declared))
    if missing or unknown:
        raise PlanError(
            f"{TABLE[:-1]}.{kind}] must list exactly the template's {kind}: "
            f"missing {missing or 'none'}, not in template.yaml {unknown or 'none'}"
        )
    return {logical_id: tuple(str(name) for name in listed[logical_id]) for logical_id in declared}


def _specifiers(specifiers: Mapping[str, str], names: tuple[str, ...], owner: str) -> tuple[str, ...]:
    unknown = [name for name in names if canonicalize_name(name) not in specifiers]
    if unknown:
        raise PlanError(f"{owner} ships {unknown[0]!r}, which is not in [project].dependencies")
    return tuple(specifiers[canonicalize_name(name)] for name in names)


def _every_dependency_shipped(specifiers: Mapping[str, str], lists: Iterable[Iterable[str]]) -> None:
    shipped = {canonicalize_name(name) for names in lists for name in names}
    unshipped = sorted(set(specifiers) - shipped)
    if unshipped:
        raise PlanError(f"{TABLE} ships {unshipped} nowhere: add each to a layer or to the functions that import it")


def _python_version(functions: Iterable[tpl.Function]) -> str:
    runtime = _one("Runtime", {f.runtime for f in functions})
    match = re.fullmatch(r"python(3\.\d+)", runtime)
    if not match:
        raise PlanError(f"Runtime {runtime} is not a Python runtime")
    return match.group(1)


def _one(what: str, values: set[str]) -> str:
    if len(values) != 1:
        raise PlanError(f"all functions must share one {what}, found {sorted(values) or 'none'}")
    return values.pop()


def _package_data(pyproject: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    table = pyproject.get("tool", {}).get("setuptools", {}).get("package-data", {})
    return {str(package): tuple(str(p) for p in patterns) for package, patterns in table.items()}
