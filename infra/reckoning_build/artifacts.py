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
    with _locked_wheels(plan, target, work_dir) as (staging, available):
        shares = _layer_shares(plan, target, available)
        layers = {
            lid: _layer(plan, layer, staging, shares[lid], out_dir / lid) for lid, layer in template.layers.items()
        }
        functions = {
            fid: _function(plan, function, target, staging, available, shares, out_dir / fid)
            for fid, function in template.functions.items()
        }
    built = {logical_id: logical_id for logical_id in [*layers, *functions]}
    template_path = out_dir / "template.yaml"
    template_path.write_text(dump(rewrite(template.document, built)), encoding="utf-8")
    return Build(
        out_dir=out_dir,
        template=template_path,
        target=target.name,
        layers=layers,
        functions=functions,
        function_layers={fid: function.layers for fid, function in template.functions.items()},
    )


def rewrite(document: Mapping[str, Any], built: Mapping[str, str]) -> dict[str, Any]:
    """A copy of the template whose functions and layers point at built folders (`built`: logical id → folder
    relative to the built template), without `sam build`'s own metadata."""
    result = copy.deepcopy(dict(document))
    for logical_id, folder in built.items():
        resource = result["Resources"][logical_id]
        resource["Properties"]["CodeUri" if resource["Type"] == FUNCTION else "ContentUri"] = folder
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
    out, project = artifacts_dir.resolve(), plan.root.resolve()
    if out == project or out in project.parents:
        raise BuildError(f"{artifacts_dir} holds the project itself: not building into it")
    if out.exists() and any(out.iterdir()):
        raise BuildError(f"{artifacts_dir} is not empty: not building into it")
    with _locked_wheels(plan, target, work_dir) as (staging, available):
        shares = _layer_shares(plan, target, available)
        if logical_id in layers:
            return _layer(plan, layers[logical_id], staging, shares[logical_id], artifacts_dir)
        return _function(plan, functions[logical_id], target, staging, available, shares, artifacts_dir)


@contextmanager
def _locked_wheels(plan: Plan, target: wheels.Target, work_dir: Path) -> Iterator[tuple[Path, wheels.Distributions]]:
    """A staging folder holding the runtime part of uv.lock for `target`, and what it holds by name."""
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wheels-", dir=work_dir) as scratch:
        staging = Path(scratch) / "site"
        requirements = wheels.locked_requirements(plan.root, Path(scratch) / "requirements.txt")
        started = time.monotonic()
        log.info("installing the locked runtime dependencies for %s", target.name)
        wheels.install(requirements, target, staging)
        log.info("wheels ready in %.1f s", time.monotonic() - started)
        yield staging, wheels.installed(staging)


def _prepare(out_dir: Path, root: Path) -> None:
    """An empty `out_dir`: an earlier build there is removed, anything else is refused."""
    out, project = out_dir.resolve(), root.resolve()
    if out == project or out in project.parents:
        raise BuildError(f"{out_dir} holds the project itself: not replacing it")
    if out.exists() and any(out.iterdir()):
        if not (out / "template.yaml").is_file():
            raise BuildError(f"{out_dir} is not empty and holds no earlier build: not replacing it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _layer_shares(
    plan: Plan, target: wheels.Target, available: wheels.Distributions
) -> Mapping[str, wheels.Distributions]:
    """The distributions each layer ships: what its requirements reach on the target."""
    return {lid: wheels.closure(plan.requirements[lid], available, target.environment) for lid in plan.template.layers}


def _layer(plan: Plan, layer: Layer, staging: Path, dists: wheels.Distributions, root: Path) -> Artifact:
    site = root / "python"  # Lambda puts /opt/python on sys.path
    for package in _packages(layer.content_dir):
        _copy_package(package, site / package.name, plan.package_data.get(package.name, ()))
    wheels.copy_into(dists.values(), staging, site)
    return _artifact(layer.logical_id, root, dists)


def _function(
    plan: Plan,
    function: Function,
    target: wheels.Target,
    staging: Path,
    available: wheels.Distributions,
    layer_shares: Mapping[str, wheels.Distributions],
    root: Path,
) -> Artifact:
    if not function.source_file.is_file():
        raise BuildError(f"{function.logical_id}: handler {function.handler} but no {function.source_file}")
    _copy_tree(function.code_dir, root, _all_files(function.code_dir))
    in_layers = {name for layer in function.layers for name in layer_shares[layer]}
    wanted = wheels.closure(plan.requirements[function.logical_id], available, target.environment)
    own = {name: dist for name, dist in wanted.items() if name not in in_layers}
    wheels.copy_into(own.values(), staging, root)
    return _artifact(function.logical_id, root, own)


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


def _all_files(source: Path) -> set[Path]:
    return {path for path in source.rglob("*") if path.is_file()}


def _copy_tree(source: Path, destination: Path, files: Iterable[Path]) -> None:
    for path in sorted(files):
        relative = path.relative_to(source)
        if _NEVER_SHIPPED.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _artifact(logical_id: str, root: Path, dists: wheels.Distributions) -> Artifact:
    root.mkdir(parents=True, exist_ok=True)
    shipped = tuple(sorted(f"{name}=={dist.version}" for name, dist in dists.items()))
    return Artifact(logical_id, root, shipped, tree_size(root))


def tree_size(root: Path) -> int:
    """Unzipped bytes under `root`."""
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


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
