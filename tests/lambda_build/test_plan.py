"""The build plan, without building: template rewriting, the dependency table, marker and extra resolution."""

from __future__ import annotations

import copy
import dataclasses
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

from reckoning_build import artifacts, plan, wheels
from reckoning_build.__main__ import main as build_main
from reckoning_local import template as tpl

ROOT = Path(__file__).resolve().parents[2]

SMALL_TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    Architectures: [arm64]
    Layers:
      - !Ref Common
Resources:
  Common:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: shared/
    Metadata:
      BuildMethod: makefile
  Api:
    Type: AWS::Serverless::Function
    Metadata:
      LocalUrlPath: /hooks
      BuildMethod: python3.13
    Properties:
      CodeUri: functions/api/
      Handler: app.lambda_handler
      Layers:
        - arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:7
      Environment:
        Variables:
          QUEUE: !Ref Queue
          BUCKET_ARN: !GetAtt Bucket.Arn
          NAME: !Sub "api-${AWS::StackName}"
  Queue:
    Type: AWS::SQS::Queue
  Bucket:
    Type: AWS::S3::Bucket
"""


def small_template() -> dict[str, Any]:
    return tpl.load_document(textwrap.dedent(SMALL_TEMPLATE))


def repo_pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def repo_template() -> tpl.Template:
    return tpl.load(ROOT / "template.yaml")


# ---------------------------------------------------------------- template


def test_the_built_template_points_each_function_and_layer_at_its_built_folder() -> None:
    source = small_template()

    built = artifacts.rewrite(source, ["Api", "Common"])

    assert built["Resources"]["Api"]["Properties"]["CodeUri"] == "Api"
    assert built["Resources"]["Common"]["Properties"]["ContentUri"] == "Common"
    assert source["Resources"]["Api"]["Properties"]["CodeUri"] == "functions/api/", "the source is not modified"


def test_build_metadata_is_dropped_and_other_metadata_kept() -> None:
    built = artifacts.rewrite(small_template(), ["Api", "Common"])

    assert built["Resources"]["Api"]["Metadata"] == {"LocalUrlPath": "/hooks"}
    assert "Metadata" not in built["Resources"]["Common"]


def test_everything_but_code_locations_survives_the_rewrite_unchanged() -> None:
    source = small_template()
    built = artifacts.rewrite(source, ["Api", "Common"])

    expected = copy.deepcopy(source)
    expected["Resources"]["Api"]["Properties"]["CodeUri"] = "Api"
    expected["Resources"]["Common"]["Properties"]["ContentUri"] = "Common"
    del expected["Resources"]["Api"]["Metadata"]["BuildMethod"]
    del expected["Resources"]["Common"]["Metadata"]
    assert built == expected


def test_intrinsic_functions_are_written_in_long_form_and_read_back_identically() -> None:
    source = small_template()

    text = artifacts.dump(source)

    assert "Ref: Queue" in text and "Fn::GetAtt:" in text and "Fn::Sub: api-${AWS::StackName}" in text
    assert "!Ref" not in text
    assert tpl.load_document(text) == source


def test_functions_take_globals_and_only_the_templates_own_layers_count() -> None:
    api = tpl.load(ROOT / "template.yaml", text=textwrap.dedent(SMALL_TEMPLATE)).functions["Api"]

    assert (api.runtime, api.architecture, api.handler) == ("python3.13", "arm64", "app.lambda_handler")
    assert api.layers == ("Common",), "the global layer is kept; a layer ARN from elsewhere is not built here"


def test_a_function_without_local_code_cannot_be_built() -> None:
    text = textwrap.dedent(SMALL_TEMPLATE).replace("CodeUri: functions/api/", "CodeUri: {Bucket: b, Key: k}")

    with pytest.raises(tpl.TemplateError, match="Api: CodeUri must be a local folder"):
        plan.make(ROOT, tpl.load(ROOT / "template.yaml", text=text), repo_pyproject())


# ---------------------------------------------------------------- the dependency table


def test_the_repository_plan_ships_stripe_and_anthropic_only_where_they_are_used() -> None:
    the_plan = plan.load(ROOT)

    def names(requirements: tuple[str, ...]) -> set[str]:
        return {requirement.split("[")[0].split(">")[0].split("=")[0] for requirement in requirements}

    sdks = {"stripe", "anthropic"}
    assert not names(the_plan.requirements["SharedLayer"]) & sdks
    assert not names(the_plan.requirements["SubmitFunction"]) & sdks
    assert names(the_plan.requirements["ReportFunction"]) == {"stripe"}  # erasure expires Checkout sessions
    assert names(the_plan.requirements["CheckoutFunction"]) == {"stripe"}
    assert names(the_plan.requirements["WebhookFunction"]) == {"stripe"}
    assert names(the_plan.requirements["GenerateFunction"]) == {"anthropic", "resend", "fpdf2"}
    assert names(the_plan.requirements["SweeperFunction"]) == {"stripe"}  # and so does the purge


def test_specifiers_come_verbatim_from_project_dependencies() -> None:
    the_plan = plan.load(ROOT)
    dependencies = set(repo_pyproject()["project"]["dependencies"])

    shipped = {requirement for requirements in the_plan.requirements.values() for requirement in requirements}
    assert shipped == dependencies, "every dependency is shipped, each with its own version range and extras"
    assert any(r.startswith("psycopg[binary]") for r in the_plan.requirements["SharedLayer"])


def test_the_repository_plan_reads_runtime_architecture_and_layers_from_the_template() -> None:
    the_plan = plan.load(ROOT)

    assert (the_plan.python_version, the_plan.architecture) == ("3.13", "arm64")
    assert set(the_plan.requirements) == {
        "SharedLayer",
        "SubmitFunction",
        "ReportFunction",
        "CheckoutFunction",
        "WebhookFunction",
        "SweeperFunction",
        "GenerateFunction",
        "MigrateFunction",
        "OperationsFunction",
    }
    assert all(f.layers == ("SharedLayer",) for f in the_plan.template.functions.values())
    assert the_plan.template.functions["SubmitFunction"].code_dir == ROOT / "functions/submit/"
    assert the_plan.template.layers["SharedLayer"].content_dir == ROOT / "shared/"


def edited_pyproject(section: str, logical_id: str, value: list[str] | None) -> dict[str, Any]:
    pyproject = repo_pyproject()
    table = pyproject["tool"]["reckoning"]["build"][section]
    if value is None:
        del table[logical_id]
    else:
        table[logical_id] = value
    return pyproject


@pytest.mark.parametrize(
    ("section", "logical_id", "value", "message"),
    [
        ("functions", "SubmitFunction", ["requests"], "SubmitFunction ships 'requests', which is not in"),
        ("functions", "SubmitFunction", None, r"missing \['SubmitFunction'\]"),
        ("functions", "NewFunction", [], r"not in template.yaml \['NewFunction'\]"),
        ("layers", "SharedLayer", ["pydantic"], "ships .* nowhere"),
    ],
    ids=["unknown dependency", "function not listed", "function not in template", "dependency shipped nowhere"],
)
def test_a_table_that_disagrees_with_the_template_or_the_dependencies_is_refused(
    section: str, logical_id: str, value: list[str] | None, message: str
) -> None:
    with pytest.raises(plan.PlanError, match=message):
        plan.make(ROOT, repo_template(), edited_pyproject(section, logical_id, value))


def test_functions_on_different_runtimes_are_refused() -> None:
    template = repo_template()
    template.functions["SweeperFunction"] = dataclasses.replace(
        template.functions["SweeperFunction"], runtime="python3.12"
    )

    with pytest.raises(plan.PlanError, match="one Runtime"):
        plan.make(ROOT, template, repo_pyproject())


# ---------------------------------------------------------------- target and dependency closure


def test_the_arm64_target_takes_wheels_up_to_the_runtimes_glibc_and_sees_aarch64_markers() -> None:
    target = wheels.lambda_target("arm64", "3.13")

    # uv takes every older manylinux tag too (psycopg-binary 3.3 ships only 2_28 wheels); 2_34 is Amazon Linux 2023.
    assert target.uv_options == ("--python-platform=aarch64-manylinux_2_34", "--python-version=3.13")
    assert target.environment["platform_machine"] == "aarch64"


def fake_distribution(site: Path, name: str, version: str, *requires: str) -> None:
    """A dist-info as `uv pip install --target` leaves it: METADATA and a RECORD listing a module, a script,
    a man page and bytecode (pip writes the script as ../../bin/…)."""
    module = name.replace("-", "_")
    info = site / f"{module}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}", *(f"Requires-Dist: {r}" for r in requires)]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    (site / f"{module}.py").write_text("")
    (site / "__pycache__").mkdir(exist_ok=True)
    (site / "__pycache__" / f"{module}.cpython-313.pyc").write_text("")
    for extra in (site / "bin" / module, site / "share" / "man" / "man1" / f"{module}.1"):
        extra.parent.mkdir(parents=True, exist_ok=True)
        extra.write_text("")
    (info / "RECORD").write_text(
        f"{module}.py,,\n__pycache__/{module}.cpython-313.pyc,,\nbin/{module},,\n../../bin/{module},,\n"
        f"share/man/man1/{module}.1,,\n"
        f"{info.name}/METADATA,,\n{info.name}/RECORD,,\n"
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    fake_distribution(site, "app-sdk", "1.0", "http-lib>=2", 'arm-only; platform_machine == "aarch64"', "db[fast]")
    fake_distribution(site, "http-lib", "2.5", 'old-backport; python_version < "3.11"')
    fake_distribution(site, "arm-only", "1.0")
    fake_distribution(site, "db", "3.0", 'db-speedups==3.0; extra == "fast"', 'docs-tool; extra == "docs"')
    fake_distribution(site, "db-speedups", "3.0")
    fake_distribution(site, "unrelated", "1.0")
    return site


def test_the_closure_follows_extras_and_evaluates_markers_for_the_target(site: Path) -> None:
    arm64 = wheels.lambda_target("arm64", "3.13").environment

    reached = wheels.closure(["app-sdk>=1"], wheels.installed(site), arm64)

    assert set(reached) == {"app-sdk", "http-lib", "arm-only", "db", "db-speedups"}


def test_a_dependency_for_another_machine_is_left_out(site: Path) -> None:
    x86 = wheels.lambda_target("x86_64", "3.13").environment

    reached = wheels.closure(["app-sdk"], wheels.installed(site), x86)

    assert "arm-only" not in reached


def test_a_dependency_missing_from_the_lock_or_locked_in_the_wrong_version_fails(site: Path) -> None:
    arm64 = wheels.lambda_target("arm64", "3.13").environment

    with pytest.raises(wheels.WheelError, match=r"uv\.lock has no missing-lib"):
        wheels.closure(["missing-lib"], wheels.installed(site), arm64)
    with pytest.raises(wheels.WheelError, match=r"uv\.lock pins http-lib 2\.5"):
        wheels.closure(["http-lib>=3"], wheels.installed(site), arm64)


def test_copying_a_distribution_leaves_out_scripts_and_bytecode(site: Path, tmp_path: Path) -> None:
    destination = tmp_path / "artifact"

    wheels.copy_into([wheels.installed(site)["http-lib"]], site, destination)

    copied = sorted(str(p.relative_to(destination)) for p in destination.rglob("*") if p.is_file())
    assert copied == ["http_lib-2.5.dist-info/METADATA", "http_lib-2.5.dist-info/RECORD", "http_lib.py"]


# ---------------------------------------------------------------- output and limits


def test_a_folder_that_holds_no_earlier_build_is_never_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")

    with pytest.raises(artifacts.BuildError, match="not replacing"):
        artifacts.build(plan.load(ROOT), wheels.host_target(), out, work_dir=tmp_path)
    assert (out / "precious.txt").read_text() == "keep me"


def test_the_project_folder_itself_is_never_taken_for_an_earlier_build(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "functions").mkdir(parents=True)
    (project / "template.yaml").write_text((ROOT / "template.yaml").read_text())
    the_plan = plan.make(project, tpl.load(project / "template.yaml"), repo_pyproject())

    for out in (project, tmp_path):
        with pytest.raises(artifacts.BuildError, match="holds the project itself"):
            artifacts.build(the_plan, wheels.host_target(), out, work_dir=tmp_path)
    assert (project / "template.yaml").is_file() and (project / "functions").is_dir()


def test_one_artifact_is_built_only_for_a_function_or_layer_of_the_template(tmp_path: Path) -> None:
    with pytest.raises(artifacts.BuildError, match="NoSuchFunction is no function or layer"):
        artifacts.build_one(plan.load(ROOT), wheels.host_target(), "NoSuchFunction", tmp_path / "a", work_dir=tmp_path)
    assert not (tmp_path / "a").exists()


def test_one_artifact_is_never_built_into_a_folder_that_holds_anything(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "precious.txt").write_text("keep me")
    the_plan = plan.load(ROOT)

    for out in (tmp_path / "out", ROOT):
        with pytest.raises(artifacts.BuildError, match="not building into it"):
            artifacts.build_one(the_plan, wheels.host_target(), "SubmitFunction", out, work_dir=tmp_path)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["precious.txt"]


def test_the_command_line_wants_a_folder_for_one_artifact(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_main(["--only", "SubmitFunction", "--artifacts-dir", ""])

    assert exit_info.value.code == 2
    assert "sam build sets ARTIFACTS_DIR" in capsys.readouterr().err


def sized_build(function_mb: float, layer_mb: float) -> artifacts.Build:
    def artifact(logical_id: str, mb: float) -> artifacts.Artifact:
        return artifacts.Artifact(logical_id, Path(logical_id), (), int(mb * artifacts.MB))

    return artifacts.Build(
        out_dir=Path("out"),
        template=Path("out/template.yaml"),
        target="arm64",
        layers={"Layer": artifact("Layer", layer_mb)},
        functions={"Small": artifact("Small", 1), "Big": artifact("Big", function_mb)},
        function_layers={"Small": ("Layer",), "Big": ("Layer",)},
    )


def test_the_limit_applies_to_a_function_together_with_its_layers() -> None:
    assert artifacts.oversized(sized_build(function_mb=150, layer_mb=100)) == []
    assert artifacts.oversized(sized_build(function_mb=150.5, layer_mb=100)) == ["Big"]


def test_the_size_table_shows_each_artifact_and_each_function_with_its_layers() -> None:
    table = artifacts.size_table(sized_build(function_mb=20, layer_mb=40))

    assert "Layer" in table
    assert [line.split() for line in table.splitlines() if line.startswith("Big")] == [["Big", "20.0", "60.0"]]
