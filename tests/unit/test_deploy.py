"""What `make publish-web` and `make foundation-params` do, and samconfig.toml's agreement with the templates."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from reckoning_local.loader import import_file
from reckoning_local.template import load_document

ROOT = Path(__file__).resolve().parents[2]
deploy: Any = import_file(ROOT / "infra" / "deploy.py", "reckoning_infra_deploy")
SAMCONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())
APPLICATION = load_document((ROOT / "template.yaml").read_text())
FOUNDATION = load_document((ROOT / "infra" / "foundation" / "template.yaml").read_text())


@pytest.mark.parametrize(
    ("name", "content_type", "cache_control"),
    [
        ("index.html", "text/html; charset=utf-8", "no-cache"),
        ("report/index.html", "text/html; charset=utf-8", "no-cache"),
        ("app.js", "text/javascript; charset=utf-8", "public, max-age=3600"),
        ("style.css", "text/css; charset=utf-8", "public, max-age=3600"),
        ("app.3f2a9c1e.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
        ("icon.svg", "image/svg+xml", "public, max-age=3600"),
    ],
)
def test_each_file_gets_the_type_a_browser_needs_and_a_cache_lifetime_its_name_allows(
    name: str, content_type: str, cache_control: str
) -> None:
    assert deploy.content_type(name) == content_type
    assert deploy.cache_control(name) == cache_control


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "js").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Reckoning</title>")
    (tmp_path / "js" / "app.js").write_text("export const x = 1;")
    (tmp_path / ".DS_Store").write_text("hidden")
    return tmp_path


@mock_aws
def test_publishing_leaves_the_bucket_holding_exactly_the_folder_and_skips_unchanged_files(site: Path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="site")
    s3.put_object(Bucket="site", Key="old.js", Body=b"gone")

    uploaded, deleted = deploy.publish(site, "site", s3)
    again, _ = deploy.publish(site, "site", s3)

    assert uploaded == ["index.html", "js/app.js"]
    assert deleted == ["old.js"]
    assert again == []
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="site")["Contents"]]
    assert keys == ["index.html", "js/app.js"]
    page = s3.head_object(Bucket="site", Key="index.html")
    assert (page["ContentType"], page["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")


def _overrides(environment: str) -> dict[str, str]:
    entries = SAMCONFIG[environment]["deploy"]["parameters"]["parameter_overrides"]
    return dict(entry.split("=", 1) for entry in entries)


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_each_environment_deploys_its_own_stack_with_every_foundation_output(environment: str) -> None:
    deploy_parameters = SAMCONFIG[environment]["deploy"]["parameters"]
    assert deploy_parameters["stack_name"] == f"reckoning-{environment}"
    assert deploy_parameters["resolve_s3"] is True
    assert "CAPABILITY_IAM" in deploy_parameters["capabilities"]
    overrides = _overrides(environment)
    assert overrides["Stage"] == environment
    assert set(overrides) <= set(APPLICATION["Parameters"])
    for name in FOUNDATION["Outputs"]:
        assert overrides[name] == f"<{name}>", f"{environment}: {name} is not the foundation's placeholder"


def test_placeholders_name_an_output_a_deployer_can_read() -> None:
    known = {*FOUNDATION["Outputs"], *APPLICATION["Outputs"], "WebAclArn"}
    for environment in ("dev", "prod"):
        for value in _overrides(environment).values():
            for placeholder in re.findall(r"<(\w+)", value):
                assert placeholder in known, f"{environment}: <{placeholder}> names no output"


def test_foundation_parameters_print_as_samconfig_lines() -> None:
    lines = deploy.parameter_lines({"DatabaseHost": "proxy.example", "AlarmTopicArn": "arn:aws:sns:x"})
    assert lines == ['    "AlarmTopicArn=arn:aws:sns:x",', '    "DatabaseHost=proxy.example",']
