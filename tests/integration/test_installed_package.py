"""The `reckoning` distribution as an operator installs it: its wheel, in a virtualenv of its own.

It carries shared/reckoning and the migrations, not the development tools, and
`reckoning migrate` from that virtualenv migrates a real PostgreSQL with no
repository anywhere on its path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest

from reckoning_build import wheels

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shared" / "reckoning"
MIGRATIONS = ROOT / "database" / "migrations"


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - our own tools with arguments built here
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built as a release is: sdist first, then the wheel from that sdist."""
    out = tmp_path_factory.mktemp("dist")
    run(wheels.uv_binary(), "build", "--quiet", "--out-dir", out, ROOT, cwd=ROOT)
    (found,) = out.glob("reckoning-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv holding the wheel and the locked runtime dependencies, nothing else: its bin/ folder."""
    work = tmp_path_factory.mktemp("installed")
    uv, venv = wheels.uv_binary(), work / "venv"
    run(uv, "venv", "--quiet", "--python", Path(sys.executable).resolve(), venv, cwd=work)
    python = venv / "bin" / "python"
    requirements = wheels.locked_requirements(ROOT, work / "requirements.txt")
    install = (uv, "pip", "install", "--quiet", "--python", python, "--no-deps")
    run(*install, "--require-hashes", "--requirements", requirements, cwd=work)
    run(*install, wheel, cwd=work)
    return venv / "bin"


def source_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def test_the_wheel_carries_the_package_and_the_migrations_and_no_development_tools(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}

    assert top_level == {"reckoning"}, "neither reckoning_local nor reckoning_build"
    expected = {f"reckoning/{name}" for name in source_files(PACKAGE) if not name.endswith(".pyc")}
    assert {name for name in names if not name.startswith(("reckoning/migrations/", "reckoning-"))} == expected
    migrations = {f"reckoning/migrations/{p.name}" for p in MIGRATIONS.iterdir() if p.suffix in {".sql", ".py"}}
    assert {name for name in names if name.startswith("reckoning/migrations/")} == migrations
    assert any(name.endswith(".sql") for name in migrations)


def test_reckoning_migrate_from_the_installed_package_migrates_a_real_database(
    installed: Path, empty_database_url: str, tmp_path: Path
) -> None:
    # Nothing of the repository: another folder, no PYTHONPATH, no stack.env to pick up.
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    environment["DATABASE_URL"] = empty_database_url

    first = run(installed / "reckoning", "migrate", cwd=tmp_path, env=environment)
    again = run(installed / "reckoning", "migrate", cwd=tmp_path, env=environment)

    expected = sorted(p.name for p in MIGRATIONS.glob("*.sql"))
    assert first.split() == [word for name in expected for word in ("applied", name)]
    assert again.strip() == "database is up to date"
    with psycopg.connect(empty_database_url) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [name[:4] for name in expected]


def test_the_installed_package_finds_its_migrations_inside_itself_and_has_no_dev_tools(
    installed: Path, tmp_path: Path
) -> None:
    probe = (
        "import importlib.util, json, reckoning\n"
        "from reckoning.db.migrate import default_directory, discover\n"
        "print(json.dumps([reckoning.__file__, str(default_directory()), [m.name for m in discover()],"
        " [importlib.util.find_spec(n) is not None for n in ('reckoning_local', 'reckoning_build')]]))"
    )

    out = run(installed / "python", "-I", "-c", probe, cwd=tmp_path, env={"PATH": os.environ.get("PATH", "")})

    package_file, directory, names, dev_tools = json.loads(out)
    site = str(installed.parent / "lib")
    assert package_file.startswith(site) and directory.startswith(site)
    assert names == sorted(p.name for p in MIGRATIONS.glob("*.sql"))
    assert dev_tools == [False, False]
