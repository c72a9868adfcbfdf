"""The built artifacts, as Lambda would load them: each handler imports from its function folder and layers alone.

One build for this machine (psycopg's and pydantic's binary wheels for arm64
cannot be loaded on x86_64), then, per function, a clean interpreter whose
sys.path holds the function folder (/var/task) and the layer (/opt/python) and
nothing of the development virtualenv.
"""

from __future__ import annotations

import functools
import importlib.metadata
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reckoning_build import artifacts, plan, wheels
from reckoning_local import template as tpl
from tests.lambda_build.support import EXPECTED_SDKS, ROOT, runtime_closure, shipped
from tests.lambda_build.support import probe as probe_handler

pytestmark = pytest.mark.slow

FUNCTIONS = sorted(tpl.load(ROOT / "template.yaml").functions)


def timed_build(target: wheels.Target, work: Path) -> artifacts.Build:
    started = time.monotonic()
    result = artifacts.build(plan.load(ROOT), target, work / "out", work_dir=work)
    print(f"{target.name} build in {time.monotonic() - started:.1f} s")
    return result


@pytest.fixture(scope="session")
def host_build(tmp_path_factory: pytest.TempPathFactory) -> artifacts.Build:
    return timed_build(wheels.host_target(), tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="session")
def arm64_build(tmp_path_factory: pytest.TempPathFactory) -> artifacts.Build:
    """What `make build` deploys: the template's architecture (not importable on this machine)."""
    return timed_build(wheels.lambda_target("arm64", "3.13"), tmp_path_factory.mktemp("build-arm64"))


def probe(result: artifacts.Build, function_id: str) -> dict[str, Any]:
    """Import the function's handler the way the Lambda runtime does, in an interpreter of its own."""
    handler = tpl.load(result.template).functions[function_id].handler
    layer_sites = [result.layers[layer].path / "python" for layer in result.function_layers[function_id]]
    return probe_handler(result.functions[function_id].path, handler, layer_sites)


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


@pytest.mark.parametrize("function_id", ["SubmitFunction"])
def test_submit_ships_neither_stripe_nor_anthropic(host_build: artifacts.Build, function_id: str) -> None:
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
    sources = plan.load(ROOT).template.functions
    for function_id, artifact in host_build.functions.items():
        dists = importlib.metadata.distributions(path=[str(artifact.path)])
        from_wheels = {str(file) for dist in dists for file in dist.files or ()}

        assert files_under(artifact.path) - from_wheels == files_under(sources[function_id].code_dir), function_id


def test_no_bytecode_console_scripts_or_man_pages_are_shipped(host_build: artifacts.Build) -> None:
    roots = [*(a.path for a in host_build.functions.values()), *(a.path / "python" for a in host_build.layers.values())]

    bytecode = [p for p in host_build.out_dir.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]
    outside_packages = [root / name for root in roots for name in ("bin", "share") if (root / name).exists()]

    assert bytecode == []
    assert outside_packages == []


def test_the_built_template_points_at_the_built_folders(host_build: artifacts.Build) -> None:
    built = tpl.load(host_build.template)

    for function_id, function in built.functions.items():
        assert function.code_dir == host_build.out_dir.resolve() / function_id
        assert function.source_file.is_file(), function_id
    for layer_id, layer in built.layers.items():
        assert layer.content_dir == host_build.out_dir.resolve() / layer_id
        assert (layer.content_dir / "python" / "reckoning" / "__init__.py").is_file(), layer_id
    text = host_build.template.read_text()
    assert not [key for key in ("BuildMethod", "ContextPath", "WorkingDirectory", "BuildArchitecture") if key in text]


def dependency_folders(result: artifacts.Build) -> dict[str, Path]:
    """Where each artifact's third-party distributions lie: the function folder, or the layer's python/."""
    folders = {lid: artifact.path / "python" for lid, artifact in result.layers.items()}
    return folders | {fid: artifact.path for fid, artifact in result.functions.items()}


@pytest.mark.parametrize("build", ["host_build", "arm64_build"])
def test_the_artifacts_ship_exactly_the_locked_runtime_dependencies(build: str, request: pytest.FixtureRequest) -> None:
    result: artifacts.Build = request.getfixturevalue(build)
    target = wheels.host_target() if result.target == "host" else wheels.lambda_target(result.target, "3.13")
    locked = runtime_closure(target.environment)

    by_artifact = {lid: shipped(folder) for lid, folder in dependency_folders(result).items()}

    for logical_id, dists in by_artifact.items():
        assert dists.items() <= locked.items(), f"{logical_id} ships versions uv.lock does not pin"
    assert {name for dists in by_artifact.values() for name in dists} == set(locked), "every locked one, once"
    assert "uv" not in locked and "reckoning-devtools" not in locked and "pytest" not in locked
