"""The built artifacts, as Lambda would load them: each handler imports from its function folder and layers alone.

One build for this machine (psycopg's and pydantic's binary wheels for arm64
cannot be loaded on x86_64), then, per function, a clean interpreter whose
sys.path holds the function folder (/var/task) and the layer (/opt/python) and
nothing of the development virtualenv.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reckoning_build import artifacts, plan, wheels
from reckoning_build import template as tpl

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(tpl.functions(tpl.read(ROOT / "template.yaml")))
# SDK import names and the functions that must (and alone may) be able to import them.
SDKS = ("stripe", "anthropic", "resend", "fpdf")
EXPECTED_SDKS = {
    "SubmitFunction": set(),
    "ReportFunction": {"fpdf"},
    "CheckoutFunction": {"stripe"},
    "WebhookFunction": {"stripe"},
    "SweeperFunction": set(),
    "GenerateFunction": {"anthropic", "resend", "fpdf"},
}

# Runs under `python -I -S -B`: no site-packages, no PYTHON* variables, no current directory on sys.path,
# and no bytecode written (/var/task is read-only on Lambda).
PROBE = """
import importlib, importlib.util, json, sys
stdlib_path = list(sys.path)
function_dir, handler = sys.argv[1], sys.argv[2]
layer_dirs = sys.argv[3].split(",")
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


@pytest.fixture(scope="session")
def host_build(tmp_path_factory: pytest.TempPathFactory) -> artifacts.Build:
    work = tmp_path_factory.mktemp("build")
    started = time.monotonic()
    result = artifacts.build(
        plan.load(ROOT),
        wheels.host_target(),
        work / "out",
        cache_dir=ROOT / ".local" / "pip-cache",
        work_dir=work,
    )
    print(f"host build in {time.monotonic() - started:.1f} s")
    return result


def base_interpreter() -> str:
    """The interpreter the virtualenv was made from: it knows nothing of the venv's packages."""
    return str(getattr(sys, "_base_executable", sys.executable))


def probe(result: artifacts.Build, function_id: str) -> dict[str, Any]:
    """Import the function's handler the way the Lambda runtime does, in an interpreter of its own."""
    function_dir = result.functions[function_id].path
    layer_dirs = [str(result.layers[layer].path / "python") for layer in result.function_layers[function_id]]
    handler = tpl.functions(tpl.read(result.template))[function_id].handler
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
            ",".join(layer_dirs),
            ",".join(SDKS),
        ],
        capture_output=True,
        text=True,
        cwd=function_dir,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{function_id} failed to import:\n{done.stderr}"
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@pytest.fixture(scope="session")
def probes(host_build: artifacts.Build) -> Callable[[str], dict[str, Any]]:
    """`probe` once per function for the whole session."""
    return functools.cache(functools.partial(probe, host_build))


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_handler_imports_from_its_artifacts_alone(
    host_build: artifacts.Build, probes: Callable[[str], dict[str, Any]], function_id: str
) -> None:
    report = probes(function_id)
    allowed = [
        str(host_build.functions[function_id].path),
        *(str(host_build.layers[layer].path) for layer in host_build.function_layers[function_id]),
        *report["stdlib_path"],
    ]

    assert report["callable"], "the handler resolves to a callable"
    assert not [p for p in report["stdlib_path"] if "site-packages" in p], "the interpreter sees no site-packages"
    assert report["reckoning"].startswith(str(host_build.layers["SharedLayer"].path))
    strays = [f for f in report["files"] if not any(f.startswith(prefix) for prefix in allowed)]
    assert strays == [], "every module comes from the function, its layers or the standard library"


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_each_function_can_import_exactly_the_sdks_it_needs(
    probes: Callable[[str], dict[str, Any]], function_id: str
) -> None:
    assert function_id in EXPECTED_SDKS, f"say which SDKs {function_id} needs in EXPECTED_SDKS"

    assert set(probes(function_id)["present"]) == EXPECTED_SDKS[function_id]


@pytest.mark.parametrize("function_id", ["SubmitFunction", "ReportFunction"])
def test_submit_and_report_ship_neither_stripe_nor_anthropic(host_build: artifacts.Build, function_id: str) -> None:
    folders = [host_build.functions[function_id].path]
    folders += [host_build.layers[layer].path / "python" for layer in host_build.function_layers[function_id]]

    entries = {entry.name.lower() for folder in folders for entry in folder.iterdir()}

    assert not {name for name in entries if name.startswith(("stripe", "anthropic"))}


def test_each_function_with_its_layers_fits_lambdas_unzipped_limit(
    host_build: artifacts.Build, capsys: pytest.CaptureFixture[str]
) -> None:
    with capsys.disabled():  # the figures belong in every test log
        print(f"\nunzipped sizes of the host build:\n{artifacts.size_table(host_build)}")

    assert artifacts.oversized(host_build) == []
    assert all(host_build.total(fid) < artifacts.LIMIT_BYTES for fid in host_build.functions)


def test_the_layer_carries_the_reckoning_package_with_its_data(host_build: artifacts.Build) -> None:
    source = ROOT / "shared" / "reckoning"
    built = host_build.layers["SharedLayer"].path / "python" / "reckoning"

    def data(root: Path) -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.suffix != ".py")

    assert data(built) == [f for f in data(source) if "__pycache__" not in f]
    assert {
        "py.typed",
        "questionnaires/current.json",
        "questionnaires/2026-11-v1.json",
        "fonts/LICENSE",
        "fonts/DejaVuSans.ttf",
    } <= set(data(built))
    assert len(list(built.glob("db/sql/*.sql"))) == len(list(source.glob("db/sql/*.sql"))) > 0


def test_functions_do_not_repeat_what_their_layers_ship(host_build: artifacts.Build) -> None:
    for function_id, artifact in host_build.functions.items():
        names = {entry.name for entry in artifact.path.iterdir()}
        for layer in host_build.function_layers[function_id]:
            assert not names & {entry.name for entry in (host_build.layers[layer].path / "python").iterdir()}
            assert not set(artifact.distributions) & set(host_build.layers[layer].distributions)


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def test_functions_carry_their_own_code_and_wheels_only(host_build: artifacts.Build) -> None:
    sources = plan.load(ROOT).functions
    for function_id, artifact in host_build.functions.items():
        dists = importlib.metadata.distributions(path=[str(artifact.path)])
        from_wheels = {str(file) for dist in dists for file in dist.files or ()}

        assert files_under(artifact.path) - from_wheels == files_under(sources[function_id].source), function_id


def test_no_bytecode_console_scripts_or_man_pages_are_shipped(host_build: artifacts.Build) -> None:
    roots = [*(a.path for a in host_build.functions.values()), *(a.path / "python" for a in host_build.layers.values())]

    bytecode = [p for p in host_build.out_dir.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]
    outside_packages = [root / name for root in roots for name in ("bin", "share") if (root / name).exists()]

    assert bytecode == []
    assert outside_packages == []


def test_the_built_template_points_at_the_built_folders(host_build: artifacts.Build) -> None:
    document = tpl.read(host_build.template)

    for function_id, function in tpl.functions(document).items():
        module = function.handler.rsplit(".", 1)[0] + ".py"
        assert (host_build.out_dir / function.code_uri / module).is_file(), function_id
    for layer_id, layer in tpl.layers(document).items():
        assert (host_build.out_dir / layer.content_uri / "python" / "reckoning" / "__init__.py").is_file(), layer_id
    assert "BuildMethod" not in host_build.template.read_text()
