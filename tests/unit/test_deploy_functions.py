"""The migrate function answers CloudFormation whatever happens, in time; the operations function runs a CLI
command and answers its exit code and output. The template wires both."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from reckoning_local.events import LambdaContext
from reckoning_local.template import load_document
from tests.helpers import load_function

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_document((ROOT / "template.yaml").read_text())
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


class Replies:
    """Stands in for urllib.request.urlopen: records each PUT to the ResponseURL."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def __call__(self, request: Any, timeout: float) -> Any:
        self.sent.append((request.get_method(), request.full_url, json.loads(request.data)))
        assert request.get_header("Content-type") == ""
        assert timeout <= 10
        return self

    def __enter__(self) -> Replies:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    status = 200


def _event(kind: str) -> dict[str, Any]:
    return {
        "RequestType": kind,
        "ResponseURL": "https://cloudformation-custom-resource-response.example/presigned",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/reckoning-dev/x",
        "RequestId": "request-1",
        "LogicalResourceId": "DatabaseSchema",
        "ResourceProperties": {"SharedLayerVersion": "arn:aws:lambda:eu-west-1:123456789012:layer:x:3"},
    }


@pytest.fixture
def migrate_function(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Replies]:
    module: Any = load_function("migrate")
    replies = Replies()
    monkeypatch.setattr(module.urllib.request, "urlopen", replies)
    return module, replies


@pytest.mark.parametrize("kind", ["Create", "Update"])
def test_a_deploy_migrates_and_answers_success_with_what_was_applied(
    migrate_function: tuple[Any, Replies], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    module, replies = migrate_function
    monkeypatch.setattr(module, "apply", lambda: ["0042_new_table.sql"])

    module.lambda_handler(_event(kind), LambdaContext(timeout_s=300))

    ((method, url, body),) = replies.sent
    assert (method, url) == ("PUT", _event(kind)["ResponseURL"])
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "reckoning-database-schema"
    assert body["Data"] == {"Applied": "0042_new_table.sql"}
    assert (body["StackId"], body["RequestId"], body["LogicalResourceId"]) == (
        _event(kind)["StackId"],
        "request-1",
        "DatabaseSchema",
    )


def test_a_failing_migration_answers_failed_without_its_message(
    migrate_function: tuple[Any, Replies], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, replies = migrate_function

    def broken() -> list[str]:
        raise RuntimeError("password=hunter2 in a message that must not reach CloudFormation")

    monkeypatch.setattr(module, "apply", broken)

    module.lambda_handler(_event("Update"), LambdaContext(timeout_s=300))

    ((_, _, body),) = replies.sent
    assert body["Status"] == "FAILED"
    assert "hunter2" not in body["Reason"]
    assert body["Reason"].startswith("RuntimeError")


def test_migrations_that_outrun_the_function_are_answered_failed_before_its_timeout(
    migrate_function: tuple[Any, Replies], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, replies = migrate_function

    def slow() -> list[str]:
        time.sleep(5)
        return []

    monkeypatch.setattr(module, "apply", slow)
    context = LambdaContext(timeout_s=module.REPLY_RESERVE_S + 1)

    started = time.monotonic()
    module.lambda_handler(_event("Create"), context)

    assert time.monotonic() - started < 3
    ((_, _, body),) = replies.sent
    assert body["Status"] == "FAILED"
    assert "did not finish" in body["Reason"]


def test_deleting_the_stack_keeps_the_schema_and_says_so(
    migrate_function: tuple[Any, Replies], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, replies = migrate_function
    monkeypatch.setattr(module, "apply", lambda: pytest.fail("a delete must not migrate"))
    event = {**_event("Delete"), "PhysicalResourceId": "reckoning-database-schema"}

    module.lambda_handler(event, LambdaContext())

    ((_, _, body),) = replies.sent
    assert body["Status"] == "SUCCESS"


def test_run_by_hand_it_answers_what_it_applied(
    migrate_function: tuple[Any, Replies], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, replies = migrate_function
    monkeypatch.setattr(module, "apply", lambda: [])

    assert module.lambda_handler({}, LambdaContext()) == {"applied": []}
    assert replies.sent == []


def test_the_operations_function_answers_a_commands_exit_code_and_everything_it_printed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module: Any = load_function("operations")

    def main(argv: list[str]) -> int:
        print("timeline of", argv[1])
        return 3

    monkeypatch.setattr(module.cli, "main", main)

    answer = module.lambda_handler({"command": "timeline", "args": ["abc"]}, LambdaContext())

    assert answer == {"exitCode": 3, "output": "timeline of abc\n"}


def test_the_operations_function_answers_usage_errors_as_the_cli_would() -> None:
    module: Any = load_function("operations")

    unknown = module.lambda_handler({"command": "no-such-command", "args": []}, LambdaContext())
    malformed = module.lambda_handler({"command": ["timeline"]}, LambdaContext())

    assert unknown["exitCode"] == 2
    assert "invalid choice" in unknown["output"]
    assert malformed["exitCode"] == 2


def test_each_deploy_that_ships_a_new_layer_migrates_before_the_functions_that_read_the_schema_change() -> None:
    schema = RESOURCES["DatabaseSchema"]
    assert schema["Type"] == "AWS::CloudFormation::CustomResource"
    assert schema["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["MigrateFunction", "Arn"]}
    assert schema["Properties"]["SharedLayerVersion"] == {"Ref": "SharedLayer"}
    assert schema["Properties"]["ServiceTimeout"] > RESOURCES["MigrateFunction"]["Properties"]["Timeout"]
    readers = ["SubmitFunction", "ReportFunction", "CheckoutFunction", "WebhookFunction", "SweeperFunction"]
    for function in [*readers, "GenerateFunction"]:
        assert RESOURCES[function]["DependsOn"] == "DatabaseSchema", function


def test_the_dashboard_is_valid_json_and_shows_what_the_runbook_asks() -> None:
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body.replace("${", "{"))["widgets"]
    text = json.dumps(widgets)
    for metric in ("PaidToReadySeconds", "ApproximateAgeOfOldestMessage", "5xx", "ReportCostUSD", "RateLimitWaits"):
        assert metric in text
    assert "GateVerdict" in text and "Verdict" in text


def test_saved_queries_answer_the_runbooks_questions() -> None:
    queries = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::Logs::QueryDefinition"]
    names = " ".join(q["Name"]["Fn::Sub"] for q in queries)
    for question in ("timeline of one reckoning", "failed generations", "webhook rejects", "slowest requests"):
        assert question in names
