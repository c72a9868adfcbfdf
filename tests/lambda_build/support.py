"""What the build tests share: importing a handler as Lambda does, and reading uv.lock on its own.

The lock is read here directly (not through `uv export`, which the builder uses), so the
comparison of built artifacts with the lock does not rest on the code under test.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "uv.lock"
PROJECT = "reckoning"

# SDK import names and the functions that must (and alone may) be able to import them.
SDKS = ("stripe", "anthropic", "resend", "fpdf")
EXPECTED_SDKS = {
    "SubmitFunction": set(),
    "ReportFunction": {"stripe"},
    "CheckoutFunction": {"stripe"},
    "WebhookFunction": {"stripe"},
    "SweeperFunction": {"stripe"},
    "GenerateFunction": {"anthropic", "resend", "fpdf"},
    "MigrateFunction": set(),
    "OperationsFunction": {"resend", "stripe"},
}

# Runs under `python -I -S -B`: no site-packages, no PYTHON* variables, no current directory on sys.path,
# and no bytecode written (/var/task is read-only on Lambda).
PROBE = """
import importlib, importlib.util, json, sys
stdlib_path = list(sys.path)
function_dir, handler = sys.argv[1], sys.argv[2]
layer_dirs = [d for d in sys.argv[3].split(",") if d]
sdks = sys.argv[4].split(",")
sys.path[:0] = [function_dir, *layer_dirs]
module_name, attribute = handler.rsplit(".", 1)
resolved = getattr(importlib.import_module(module_name), attribute)
present = [name for name in sdks if importlib.util.find_spec(name) is not None]
for name in present:
    importlib.import_module(name)
print(json.dumps({
    "stdlib_path": stdlib_path,
    "callable": callable(resolved),
    "present": present,
    "reckoning": sys.modules["reckoning"].__file__,
    "files": sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""}),
}))
"""


def base_interpreter() -> str:
    """The interpreter the virtualenv was made from: it knows nothing of the venv's packages."""
    return str(getattr(sys, "_base_executable", sys.executable))


def probe(function_dir: Path, handler: str, layer_sites: Iterable[Path]) -> dict[str, Any]:
    """Import a handler the way the Lambda runtime does (/var/task, then /opt/python), in an interpreter of its own."""
    done = subprocess.run(  # noqa: S603 - the base interpreter with arguments built here
        [
            base_interpreter(),
            "-I",
            "-S",
            "-B",
            "-c",
            PROBE,
            str(function_dir),
            handler,
            ",".join(str(site) for site in layer_sites),
            ",".join(SDKS),
        ],
        capture_output=True,
        text=True,
        cwd=function_dir,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{function_dir.name} failed to import {handler}:\n{done.stderr}"
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def shipped(folder: Path) -> dict[str, str]:
    """The third-party distributions installed directly in `folder`: name → version."""
    return {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions(path=[str(folder)])
    }


def _lock() -> dict[str, Any]:
    with LOCK.open("rb") as handle:
        return tomllib.load(handle)


def locked_packages() -> dict[str, list[dict[str, Any]]]:
    """Every package entry of uv.lock by canonical name (a name can be locked in more than one version)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for package in _lock()["package"]:
        found.setdefault(canonicalize_name(package["name"]), []).append(package)
    return found


def runtime_closure(environment: Mapping[str, str]) -> dict[str, str]:
    """What the project's own dependencies reach in uv.lock on a platform (no dev group): name → locked version."""
    packages = locked_packages()
    reached: dict[str, str] = {}
    pending: list[tuple[str, tuple[str, ...]]] = [(PROJECT, ())]
    seen: set[tuple[str, str]] = set()
    while pending:
        name, extras = pending.pop()
        entries = packages[name]
        assert len(entries) == 1, f"uv.lock holds {name} in {len(entries)} versions: say which one ships"
        entry = entries[0]
        if name != PROJECT:
            reached[name] = entry["version"]
        for extra in ("", *extras):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            edges = entry.get("dependencies", []) if not extra else entry.get("optional-dependencies", {})[extra]
            for edge in edges:
                marker = edge.get("marker")
                if marker is None or Marker(marker).evaluate(dict(environment)):
                    pending.append((canonicalize_name(edge["name"]), tuple(edge.get("extra", ()))))
    return reached
