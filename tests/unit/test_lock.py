"""One lock: everything installed anywhere (the venv, uv itself, the SAM CLI, the build backend) is pinned.

`make install` runs `uv sync --locked`, which refuses a uv.lock that no longer
matches pyproject.toml; these tests cover what uv does not check itself.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "infra" / "tools"


def toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def pins(text: str) -> dict[str, tuple[str, int]]:
    """A hashed requirements file: name → (exact version, number of hashes)."""
    found: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=\S)", text):
        first = block.split(" \\", 1)[0].split(";", 1)[0].strip()
        if not first or first.startswith("#"):
            continue
        requirement = Requirement(first)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{first} is not an exact pin"
        found[requirement.name] = (specifier.version, block.count("--hash=sha256:"))
    return found


def test_uv_is_one_exact_version_in_pyproject_the_lock_and_the_bootstrap_file() -> None:
    pyproject = toml(ROOT / "pyproject.toml")
    locked = {p["name"]: p["version"] for p in toml(ROOT / "uv.lock")["package"]}
    bootstrap = pins((TOOLS / "uv.txt").read_text())

    (pin,) = pyproject["dependency-groups"]["uv"]
    version = pin.removeprefix("uv==")
    assert pin == f"uv=={version}", "one exact version"
    assert Version(version) in SpecifierSet(pyproject["tool"]["uv"]["required-version"])
    assert locked["uv"] == version
    assert list(bootstrap) == ["uv"] and bootstrap["uv"][0] == version
    assert bootstrap["uv"][1] >= 2, "hashes of uv's wheels for more than one platform"


def test_every_sam_cli_pin_is_exact_and_hashed() -> None:
    sam = pins((TOOLS / "sam.txt").read_text())

    assert "aws-sam-cli" in sam and len(sam) > 20
    assert [name for name, (_, hashes) in sam.items() if hashes == 0] == []


@pytest.mark.parametrize("pyproject", ["pyproject.toml", "infra/pyproject.toml"])
def test_the_build_backend_is_pinned(pyproject: str) -> None:
    requires = toml(ROOT / pyproject)["build-system"]["requires"]

    assert all(str(Requirement(r).specifier).startswith("==") for r in requires), requires


def test_the_makefile_installs_only_from_the_lock_or_hashed_pins() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipes = [line.strip() for line in makefile.splitlines() if line.startswith("\t")]
    installs = [line for line in recipes if re.search(r"\b(pip|uv)\b.*\b(install|sync)\b", line, re.IGNORECASE)]

    assert len(installs) == 3, "uv itself, .venv and the SAM CLI"
    for line in installs:
        locked = "--locked" in line or "--require-hashes" in line
        assert locked, f"unpinned install in the Makefile: {line}"
    assert ">=" not in makefile
