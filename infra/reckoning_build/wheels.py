"""Third-party wheels for the Lambda target: the locked versions, then each artifact's share of them.

The runtime part of uv.lock (every pin of `[project].dependencies` with its hashes, no
dev group) is installed for the target in one go into a staging folder, so a layer and
the functions on top of it always agree on versions, and those are the versions the
tests ran with. Each artifact then receives the distributions its own requirements
reach (markers evaluated for the target, not for this machine), less what its layers
already ship.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Python 3.12 and later run on Amazon Linux 2023: glibc 2.34. uv accepts every older manylinux tag with it.
_GLIBC = "2_34"
_MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}
# With --target, console scripts land in bin/ and data files (man pages) in share/: neither is importable.
_NOT_SHIPPED_ROOTS = {"..", "bin", "share"}

Distributions = dict[str, importlib.metadata.Distribution]


class WheelError(RuntimeError):
    """uv failed, or what it installed does not satisfy the requirements on the target."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where the artifacts will run: uv's platform options and the environment markers see."""

    name: str  # "arm64", "x86_64" or "host"
    uv_options: tuple[str, ...]
    environment: dict[str, str]


def lambda_target(architecture: str, python_version: str) -> Target:
    """A Lambda Python runtime on `architecture` ("arm64" or "x86_64")."""
    machine = _MACHINES.get(architecture)
    if machine is None:
        raise WheelError(f"unknown Lambda architecture {architecture!r}")
    if tuple(int(part) for part in python_version.split(".")) < (3, 12):
        raise WheelError(f"python{python_version} runs on Amazon Linux 2; only python3.12+ is supported")
    options = (f"--python-platform={machine}-manylinux_{_GLIBC}", f"--python-version={python_version}")
    return Target(architecture, options, _lambda_environment(machine, python_version))


def host_target() -> Target:
    """This machine's interpreter, for builds whose modules are imported here (tests)."""
    return Target("host", (), {key: str(value) for key, value in default_environment().items()})


def _lambda_environment(machine: str, python_version: str) -> dict[str, str]:
    full_version = f"{python_version}.0"
    return {
        "implementation_name": "cpython",
        "implementation_version": full_version,
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": full_version,
        "python_version": python_version,
        "sys_platform": "linux",
    }


def uv_binary() -> str:
    """The uv of the dev group: the version uv.lock pins, whatever else is on PATH."""
    from uv import find_uv_bin

    return find_uv_bin()


def _uv(*arguments: str, what: str) -> None:
    done = subprocess.run([uv_binary(), *arguments], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise WheelError(f"{what} failed:\n{done.stdout}{done.stderr}")


def locked_requirements(root: Path, destination: Path) -> Path:
    """The runtime pins of `root`'s uv.lock with their hashes, as a requirements file (refused if the lock is stale)."""
    _uv(
        "export",
        "--quiet",
        "--locked",  # a lock that no longer matches pyproject.toml is an error: run `make lock`
        "--no-dev",
        "--no-emit-workspace",  # the reckoning package ships as source in the layer; the dev tools never ship
        "--no-header",
        "--format=requirements.txt",
        f"--project={root}",
        f"--output-file={destination}",
        what="uv export (is uv.lock up to date? `make lock`)",
    )
    return destination


def install(requirements: Path, target: Target, staging: Path) -> None:
    """Install exactly the pinned, hash-checked wheels of `requirements` for `target` into `staging`."""
    _uv(
        "pip",
        "install",
        "--quiet",
        f"--target={staging}",
        f"--python={sys.executable}",
        "--no-deps",  # the export is already the whole locked closure: nothing else may come in
        "--require-hashes",
        "--only-binary=:all:",
        *target.uv_options,
        f"--requirements={requirements}",
        what=f"uv pip install for {target.name}",
    )


def installed(staging: Path) -> Distributions:
    """The distributions installed into `staging`, by canonical name."""
    return {
        canonicalize_name(dist.metadata["Name"]): dist for dist in importlib.metadata.distributions(path=[str(staging)])
    }


def closure(requirements: Iterable[str], available: Distributions, environment: Mapping[str, str]) -> Distributions:
    """The distributions `requirements` reach on the target, extras included."""
    pending = [req for req in map(Requirement, requirements) if _applies(req, environment, "")]
    chosen: Distributions = {}
    expanded: set[tuple[str, str]] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        dist = available.get(name)
        if dist is None:
            raise WheelError(f"{requirement} is needed on the target but uv.lock has no {name} for it")
        if not requirement.specifier.contains(dist.version, prereleases=True):
            raise WheelError(f"{requirement} is needed but uv.lock pins {name} {dist.version}")
        chosen[name] = dist
        for extra in ("", *(canonicalize_name(e) for e in requirement.extras)):
            if (name, extra) not in expanded:
                expanded.add((name, extra))
                pending.extend(
                    dep for dep in map(Requirement, dist.requires or []) if _applies(dep, environment, extra)
                )
    return chosen


def _applies(requirement: Requirement, environment: Mapping[str, str], extra: str) -> bool:
    """Whether a dependency applies on the target: unconditionally (extra "") or because of `extra`."""
    if requirement.marker is None:
        return not extra
    applies = requirement.marker.evaluate({**environment, "extra": extra})
    # With an extra, only what it adds: the plain dependencies were taken with extra "".
    return applies and not (extra and requirement.marker.evaluate({**environment, "extra": ""}))


def copy_into(dists: Iterable[importlib.metadata.Distribution], staging: Path, destination: Path) -> None:
    """Copy each distribution's installed files (per its RECORD) from `staging` into `destination`."""
    for dist in dists:
        files = dist.files
        if files is None:
            raise WheelError(f"{dist.metadata['Name']} has no RECORD: cannot tell its files")
        for file in filter(shipped, files):
            # A copy, not a link: staging links into uv's cache, which an artifact must never share files with.
            (destination / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(staging / file, destination / file)


def shipped(path: PurePath) -> bool:
    """Files a function needs: not console scripts or man pages (outside the packages), not bytecode."""
    return path.parts[0] not in _NOT_SHIPPED_ROOTS and "__pycache__" not in path.parts and path.suffix != ".pyc"
