"""Third-party wheels for the Lambda target: one pip resolution, then each artifact's share of it.

All requirements are resolved together into a staging folder, so a layer and the
functions on top of it always agree on versions. Each artifact then receives the
distributions its own requirements reach (markers evaluated for the target, not
for this machine), less what its layers already ship.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Python 3.12 and later run on Amazon Linux 2023: glibc 2.34. manylinux2014 is glibc 2.17.
_NEWEST_GLIBC_MINOR = 34
_OLDEST_GLIBC_MINOR = 17
_MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}

Distributions = dict[str, importlib.metadata.Distribution]


class WheelError(RuntimeError):
    """pip failed, or what it installed does not satisfy the requirements on the target."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where the artifacts will run: pip's platform options and the environment markers see."""

    name: str  # "arm64", "x86_64" or "host"
    pip_options: tuple[str, ...]
    environment: dict[str, str]


def lambda_target(architecture: str, python_version: str) -> Target:
    """A Lambda Python runtime on `architecture` ("arm64" or "x86_64")."""
    machine = _MACHINES.get(architecture)
    if machine is None:
        raise WheelError(f"unknown Lambda architecture {architecture!r}")
    if tuple(int(part) for part in python_version.split(".")) < (3, 12):
        raise WheelError(f"python{python_version} runs on Amazon Linux 2; only python3.12+ is supported")
    # pip matches platform tags literally: every glibc the runtime offers must be named.
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in range(_NEWEST_GLIBC_MINOR, _OLDEST_GLIBC_MINOR - 1, -1)]
    platforms.append(f"manylinux2014_{machine}")
    options = (
        *(f"--platform={platform}" for platform in platforms),
        f"--python-version={python_version}",
        "--implementation=cp",
    )
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


def install(requirements: Iterable[str], target: Target, staging: Path, cache_dir: Path) -> None:
    """pip-install binary wheels of `requirements` (and their dependencies) into `staging`."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        "--no-compile",  # no bytecode: smaller artifacts, and Lambda compiles on import
        "--no-warn-conflicts",  # compares with the running environment, not the target
        "--no-warn-script-location",
        "--only-binary=:all:",
        f"--target={staging}",
        f"--cache-dir={cache_dir}",
        *target.pip_options,
        *requirements,
    ]
    # pip's own scratch space next to the staging folder, not in the system's temporary folder.
    environment = {**os.environ, "TMPDIR": str(staging.parent)}
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)  # noqa: S603
    if done.returncode != 0:
        raise WheelError(f"pip failed for {target.name}:\n{done.stdout}{done.stderr}")


def installed(staging: Path) -> Distributions:
    """The distributions pip put into `staging`, by canonical name."""
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
            raise WheelError(f"{requirement} is needed on the target but pip did not install {name}")
        if not requirement.specifier.contains(dist.version, prereleases=True):
            raise WheelError(f"{requirement} is needed but pip installed {name} {dist.version}")
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
    context = {**environment, "extra": extra}
    if extra:  # only what this extra adds; the plain dependencies were taken with extra ""
        return requirement.marker.evaluate(context) and not requirement.marker.evaluate({**environment, "extra": ""})
    return requirement.marker.evaluate(context)


def copy_into(dists: Iterable[importlib.metadata.Distribution], staging: Path, destination: Path) -> None:
    """Copy each distribution's installed files (per its RECORD) from `staging` into `destination`."""
    for dist in dists:
        files = dist.files
        if files is None:
            raise WheelError(f"{dist.metadata['Name']} has no RECORD: cannot tell its files")
        for file in files:
            if shipped(file):
                _copy_file(staging / file, destination / file)


def shipped(path: PurePath) -> bool:
    """Files a function needs: not console scripts or man pages (outside the package root), not bytecode."""
    return path.parts[0] != ".." and "__pycache__" not in path.parts and path.suffix != ".pyc"


def _copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # A hard link: the staging copy is deleted afterwards, and linking is instant.
    try:
        target.hardlink_to(source)
    except OSError:
        shutil.copy2(source, target)
