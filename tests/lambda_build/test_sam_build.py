"""Plain `sam build`, as any SAM user runs it before `sam local invoke` or `sam deploy`.

The template's `Metadata: BuildMethod: makefile` makes SAM run the Makefile's
`build-<LogicalId>` targets, i.e. the project's builder on uv.lock; no Docker. The
result must import like Lambda imports it and ship what `make build` ships. Built for
this machine (`PLATFORM=host`, which the Makefile passes on) so the handlers can be
imported here.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from reckoning_build import artifacts, plan, wheels
from reckoning_local import template as tpl
from tests.lambda_build.support import EXPECTED_SDKS, ROOT, probe, runtime_closure, shipped

pytestmark = pytest.mark.slow

SAM = ROOT / ".local" / "tools" / "bin" / "sam"
TEMPLATE = tpl.load(ROOT / "template.yaml")
FUNCTIONS = sorted(TEMPLATE.functions)
LAYERS = sorted(TEMPLATE.layers)


@pytest.fixture(scope="module")
def sam_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SAM.is_file():
        pytest.skip("the SAM CLI is not installed (`make lint` installs it into .local/tools)")
    out = tmp_path_factory.mktemp("sam") / "build"
    environment = {**os.environ, "PLATFORM": "host", "SAM_CLI_TELEMETRY": "0"}
    environment.pop("MAKEFLAGS", None)  # a `make test` around us must not leak its flags into SAM's make
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - the project's own SAM CLI on the project's own template
        [str(SAM), "build", "--template-file", str(ROOT / "template.yaml"), "--build-dir", str(out)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"sam build failed:\n{done.stdout}\n{done.stderr}"
    print(f"sam build in {time.monotonic() - started:.1f} s")
    return out


@pytest.fixture(scope="module")
def make_build(tmp_path_factory: pytest.TempPathFactory) -> artifacts.Build:
    """`make build`'s builder for the same platform, to compare with."""
    work = tmp_path_factory.mktemp("make-build")
    return artifacts.build(plan.load(ROOT), wheels.host_target(), work / "out", work_dir=work)


def built_function(sam_build: Path, function_id: str) -> tuple[Path, str, list[Path]]:
    """The function folder, handler and layer sites as the template SAM wrote points at them."""
    function = tpl.load(sam_build / "template.yaml").functions[function_id]
    return function.code_dir, function.handler, [sam_build / layer / "python" for layer in function.layers]


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_handler_imports_from_what_sam_built(sam_build: Path, function_id: str) -> None:
    function_dir, handler, layer_sites = built_function(sam_build, function_id)

    report: dict[str, Any] = probe(function_dir, handler, layer_sites)

    assert report["callable"]
    assert report["reckoning"].startswith(str(sam_build / "SharedLayer" / "python" / "reckoning"))
    assert set(report["present"]) == EXPECTED_SDKS[function_id], "Submit and Report carry neither Stripe nor Claude"
    outside = [f for f in report["files"] if not f.startswith((str(sam_build), *report["stdlib_path"]))]
    assert outside == [], "every module comes from the built function, its layer or the standard library"


def test_sam_build_ships_exactly_the_locked_runtime_dependencies(sam_build: Path) -> None:
    locked = runtime_closure(wheels.host_target().environment)
    folders = [sam_build / fid for fid in FUNCTIONS] + [sam_build / lid / "python" for lid in LAYERS]

    by_folder = {folder: shipped(folder) for folder in folders}

    for folder, dists in by_folder.items():
        assert dists.items() <= locked.items(), f"{folder.name} ships versions uv.lock does not pin"
    assert {name for dists in by_folder.values() for name in dists} == set(locked)


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("logical_id", [*LAYERS, *FUNCTIONS])
def test_sam_build_and_make_build_produce_the_same_files(
    sam_build: Path, make_build: artifacts.Build, logical_id: str
) -> None:
    made = {**make_build.layers, **make_build.functions}[logical_id].path

    assert files_under(sam_build / logical_id) == files_under(made)


def test_the_template_sam_wrote_points_at_the_built_folders(sam_build: Path) -> None:
    built = tpl.load(sam_build / "template.yaml")

    assert {f.code_dir for f in built.functions.values()} == {sam_build.resolve() / fid for fid in FUNCTIONS}
    assert {layer.content_dir for layer in built.layers.values()} == {sam_build.resolve() / lid for lid in LAYERS}
