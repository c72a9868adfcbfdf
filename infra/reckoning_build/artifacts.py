"""Builds every function and layer into SAM's layout, writes the built template, and measures the result.

`out/<LogicalId>/` per function (its own code plus its extra wheels) and per layer
(`python/` with the shared packages and common wheels, as Lambda mounts it at
/opt/python), and `out/template.yaml` pointing at them: what `sam build` leaves
in `.aws-sam/build` and `sam deploy` picks up unchanged. `build_one` builds a single
function or layer into a folder of SAM's choosing: what `sam build` asks of the
Makefile's `build-<LogicalId>` targets.
"""

from __future__ import annotations

import copy
import logging
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reckoning_build import wheels
from reckoning_build.plan import Plan
from reckoning_local.template import FUNCTION, Function, Layer

log = logging.getLogger("reckoning_build")

# Lambda's limit on a function's unzipped code, its layers included.
LIMIT_BYTES = 250 * 1024 * 1024
MB = 1024 * 1024
_NEVER_SHIPPED = {"__pycache__", "tests"}
# Metadata that tells `sam build` how to build; meaningless once built.
BUILD_METADATA = ("BuildMethod", "BuildProperties", "BuildArchitecture", "ContextPath", "WorkingDirectory")


class BuildError(RuntimeError):
    """The build cannot be produced, or its result would not deploy."""


@dataclass(frozen=True, slots=True)
class Artifact:
    logical_id: str
    path: Path
    distributions: tuple[str, ...]  # third-party "name==version" shipped here
    size: int  # unzipped bytes


@dataclass(frozen=True, slots=True)
class Build:
    out_dir: Path
    template: Path
    target: str
    layers: dict[str, Artifact]
    functions: dict[str, Artifact]
    function_layers: dict[str, tuple[str, ...]]

    def total(self, function_id: str) -> int:
        """Unzipped bytes of a function together with its layers: what the limit applies to."""
        return self.functions[function_id].size + sum(
            self.layers[layer].size for layer in self.function_layers[function_id]
        )


def build(plan: Plan, target: wheels.Target, out_dir: Path, *, work_dir: Path) -> Build:
    """Build every artifact of `plan` for `target` into `out_dir` (replacing an earlier build there)."""
    _prepare(out_dir, plan.root)
    template = plan.template
    with _locked_wheels(plan, target, work_dir) as staged:
        layers = {lid: staged.artifact(lid, out_dir / lid) for lid in template.layers}
        functions = {fid: staged.artifact(fid, out_dir / fid) for fid in template.functions}
    template_path = out_dir / "template.yaml"
    template_path.write_text(dump(rewrite(template.document, [*layers, *functions])), encoding="utf-8")
    return Build(
        out_dir=out_dir,
        template=template_path,
        target=target.name,
        layers=layers,
        functions=functions,
        function_layers={fid: function.layers for fid, function in template.functions.items()},
    )


def rewrite(document: Mapping[str, Any], built: Iterable[str]) -> dict[str, Any]:
    """A copy of the template whose `built` functions and layers point at the folders named after them (beside
    the built template), without `sam build`'s own metadata."""
    result = copy.deepcopy(dict(document))
    for logical_id in built:
        resource = result["Resources"][logical_id]
        resource["Properties"]["CodeUri" if resource["Type"] == FUNCTION else "ContentUri"] = logical_id
        metadata = resource.get("Metadata") or {}
        for name in BUILD_METADATA:
            metadata.pop(name, None)
        if not metadata:
            resource.pop("Metadata", None)
    return result


def dump(document: Mapping[str, Any]) -> str:
    """YAML text of a template: long-form intrinsics (as `sam build` writes them), keys in their order."""
    return yaml.safe_dump(dict(document), sort_keys=False, width=120, allow_unicode=True)


def build_one(plan: Plan, target: wheels.Target, logical_id: str, artifacts_dir: Path, *, work_dir: Path) -> Artifact:
    """Build one function or layer into `artifacts_dir`, which must be empty (SAM's ARTIFACTS_DIR)."""
    layers, functions = plan.template.layers, plan.template.functions
    if logical_id not in layers and logical_id not in functions:
        known = ", ".join([*layers, *functions])
        raise BuildError(f"{logical_id} is no function or layer of the template (known: {known})")
    _outside_project(artifacts_dir, plan.root, "not building into it")
    if artifacts_dir.exists() and any(artifacts_dir.iterdir()):
        raise BuildError(f"{artifacts_dir} is not empty: not building into it")
    with _locked_wheels(plan, target, work_dir) as staged:
        return staged.artifact(logical_id, artifacts_dir)


@dataclass(frozen=True, slots=True)
class _Staged:
    """The runtime part of uv.lock installed for `target` into `site`: each artifact copies its share from here."""

    plan: Plan
    target: wheels.Target
    site: Path
    available: wheels.Distributions

    def reach(self, logical_id: str) -> wheels.Distributions:
        """The distributions a function's or layer's requirements reach on the target."""
        return wheels.closure(self.plan.requirements[logical_id], self.available, self.target.environment)

    def artifact(self, logical_id: str, root: Path) -> Artifact:
        """A layer with its share; a function with its share less what its layers already ship."""
        template = self.plan.template
        if logical_id in template.layers:
            return _layer(self.plan, template.layers[logical_id], self.site, self.reach(logical_id), root)
        function = template.functions[logical_id]
        in_layers = {name for layer in function.layers for name in self.reach(layer)}
        own = {name: dist for name, dist in self.reach(logical_id).items() if name not in in_layers}
        return _function(function, self.site, own, root)


@contextmanager
def _locked_wheels(plan: Plan, target: wheels.Target, work_dir: Path) -> Iterator[_Staged]:
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wheels-", dir=work_dir) as scratch:
        site = Path(scratch) / "site"
        requirements = wheels.locked_requirements(plan.root, Path(scratch) / "requirements.txt")
        started = time.monotonic()
        log.info("installing the locked runtime dependencies for %s", target.name)
        wheels.install(requirements, target, site)
        log.info("wheels ready in %.1f s", time.monotonic() - started)
        yield _Staged(plan, target, site, wheels.installed(site))


def _outside_project(folder: Path, root: Path, refusal: str) -> None:
    out, project = folder.resolve(), root.resolve()
    if out == project or out in project.parents:
        raise BuildError(f"{folder} holds the project itself: {refusal}")


def _prepare(out_dir: Path, root: Path) -> None:
    """An empty `out_dir`: an earlier build there is removed, anything else is refused."""
    _outside_project(out_dir, root, "not replacing it")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / "template.yaml").is_file():
            raise BuildError(f"{out_dir} is not empty and holds no earlier build: not replacing it")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def _layer(plan: Plan, layer: Layer, site: Path, dists: wheels.Distributions, root: Path) -> Artifact:
    python = root / "python"  # Lambda puts /opt/python on sys.path
    for package in _packages(layer.content_dir):
        _copy_package(package, python / package.name, plan.package_data.get(package.name, ()))
    wheels.copy_into(dists.values(), site, python)
    return _artifact(layer.logical_id, root, dists)


def _function(function: Function, site: Path, dists: wheels.Distributions, root: Path) -> Artifact:
    if not function.source_file.is_file():
        raise BuildError(f"{function.logical_id}: handler {function.handler} but no {function.source_file}")
    _copy_tree(function.code_dir, root, function.code_dir.rglob("*"))
    wheels.copy_into(dists.values(), site, root)
    return _artifact(function.logical_id, root, dists)


def _packages(source: Path) -> list[Path]:
    packages = sorted(p.parent for p in source.glob("*/__init__.py") if p.parent.name not in _NEVER_SHIPPED)
    if not packages:
        raise BuildError(f"{source} holds no Python package for its layer")
    return packages


def _copy_package(package: Path, destination: Path, data_patterns: Iterable[str]) -> None:
    """A package's modules and the data files pyproject declares for it, as its wheel would hold them."""
    files = set(package.rglob("*.py"))
    for pattern in data_patterns:
        files.update(path for path in package.glob(pattern) if path.is_file())
    _copy_tree(package, destination, files)


def _copy_tree(source: Path, destination: Path, files: Iterable[Path]) -> None:
    for path in sorted(files):
        relative = path.relative_to(source)
        if _NEVER_SHIPPED.intersection(relative.parts) or path.suffix == ".pyc" or not path.is_file():
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _artifact(logical_id: str, root: Path, dists: wheels.Distributions) -> Artifact:
    root.mkdir(parents=True, exist_ok=True)
    shipped = tuple(sorted(f"{name}=={dist.version}" for name, dist in dists.items()))
    size = sum(path.stat().st_size for path in root.rglob("*") if path.is_file())  # unzipped bytes
    return Artifact(logical_id, root, shipped, size)


def oversized(result: Build, limit: int = LIMIT_BYTES) -> list[str]:
    """Functions that, with their layers, exceed Lambda's unzipped size limit."""
    return [fid for fid in result.functions if result.total(fid) > limit]


def size_table(result: Build) -> str:
    """Unzipped MB per artifact, and per function with its layers."""
    rows = [f"{'artifact':<20} {'MB':>8} {'with layers':>12}"]
    rows += [f"{lid:<20} {artifact.size / MB:>8.1f}" for lid, artifact in result.layers.items()]
    for fid, artifact in result.functions.items():
        rows.append(f"{fid:<20} {artifact.size / MB:>8.1f} {result.total(fid) / MB:>12.1f}")
    rows.append(f"limit per function with its layers: {LIMIT_BYTES / MB:.0f} MB unzipped")
    return "\n".join(rows)
