"""What production relies on in template.yaml: the worker's sizing, alarms that need no app code, safe deploys."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import pytest

from reckoning.cli import build_parser
from reckoning.config import Settings
from reckoning_local.template import load_document

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_document((ROOT / "template.yaml").read_text())
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
ALARMS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
CANARIED = ("SubmitFunction", "ReportFunction", "CheckoutFunction", "WebhookFunction")


def _function_name(function_id: str) -> str:
    return str(FUNCTIONS[function_id]["Properties"]["FunctionName"]["Fn::Sub"])


def _alarms_on(function_id: str, metric: str) -> list[str]:
    return [
        alarm_id
        for alarm_id, alarm in ALARMS.items()
        if alarm["Properties"].get("Namespace") == "AWS/Lambda"
        and alarm["Properties"].get("MetricName") == metric
        and {"Name": "FunctionName", "Value": {"Fn::Sub": _function_name(function_id)}}
        in alarm["Properties"].get("Dimensions", [])
    ]


def test_the_worker_takes_one_paid_order_per_invocation_under_a_concurrency_cap() -> None:
    (source,) = FUNCTIONS["GenerateFunction"]["Properties"]["Events"].values()
    assert source["Type"] == "SQS"
    assert source["Properties"]["BatchSize"] == 1
    assert source["Properties"]["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "GenerateMaxConcurrency"}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_one_parameter_feeds_the_queue_and_the_workers_last_receive_logic() -> None:
    queue = RESOURCES["ReportQueue"]["Properties"]["RedrivePolicy"]
    worker = FUNCTIONS["GenerateFunction"]["Properties"]["Environment"]["Variables"]
    assert queue["maxReceiveCount"] == worker["QUEUE_MAX_RECEIVE_COUNT"] == {"Ref": "ReportQueueMaxReceiveCount"}


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_alarms_on_lambdas_own_metrics(function_id: str, metric: str) -> None:
    assert _alarms_on(function_id, metric), f"no {metric} alarm on {function_id}"


def test_the_webhooks_5xx_answers_alarm_from_the_function_urls_metric() -> None:
    assert _alarms_on("WebhookFunction", "Url5xxCount")


def test_queue_age_and_dead_letters_alarm_from_sqs_metrics() -> None:
    watched = {
        (a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0])
        for a in ALARMS.values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    }
    assert ("ApproximateAgeOfOldestMessage", "ReportQueue") in watched
    assert ("ApproximateNumberOfMessagesVisible", "ReportDeadLetterQueue") in watched


@pytest.mark.parametrize("function_id", CANARIED)
def test_api_and_webhook_deploy_through_a_canary_that_rolls_back_on_their_own_alarms(function_id: str) -> None:
    properties = FUNCTIONS[function_id]["Properties"]
    assert properties["AutoPublishAlias"] == "live"
    preference = properties["DeploymentPreference"]
    assert preference["Type"] == {"Ref": "DeploymentType"}
    watched = {alarm["Ref"] for alarm in preference["Alarms"]}
    assert set(_alarms_on(function_id, "Errors")) <= watched
    assert set(_alarms_on(function_id, "Throttles")) <= watched


def test_the_bucket_of_paid_customers_pdfs_survives_the_stack() -> None:
    bucket = RESOURCES["ReportBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"


def test_every_alarm_has_a_row_in_the_readme_runbook() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = set(re.findall(r"^\| `([^`]+)`", readme, re.MULTILINE))
    short = {str(f["Properties"]["FunctionName"]["Fn::Sub"]).split("-")[1] for f in FUNCTIONS.values()}
    for alarm in ALARMS.values():
        name = str(alarm["Properties"]["AlarmName"]["Fn::Sub"]).removeprefix("reckoning-${Stage}-")
        generic = re.sub(rf"^({'|'.join(short)})-(errors|throttles)$", r"<function>-\2", name)
        assert name in rows or generic in rows, f"README runbook has no row for alarm {name}"


def test_every_alarm_on_our_own_metrics_watches_a_metric_the_code_emits() -> None:
    code = "".join(path.read_text() for path in (ROOT / "shared" / "reckoning").rglob("*.py"))
    emitted = set(re.findall(r'add_metric\(name="(\w+)"', code))
    watched = {
        alarm["Properties"]["MetricName"]
        for alarm in ALARMS.values()
        if alarm["Properties"].get("Namespace") == "Reckoning"
    }
    assert {"GenerationPaused", "GenerationFailed"} <= watched
    assert watched <= emitted, f"alarms on metrics nothing emits: {sorted(watched - emitted)}"


def test_commands_named_in_the_template_exist() -> None:
    parser = build_parser()
    commands = next(set(a.choices) for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    named = re.findall(r"`reckoning ([a-z-]+)", (ROOT / "template.yaml").read_text())
    assert named
    assert set(named) <= commands


def test_the_pdf_lifecycle_rule_agrees_with_the_retention_purge() -> None:
    rules = {r["Id"]: r for r in RESOURCES["ReportBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireOldPdfs"]["ExpirationInDays"] == {"Ref": "RetentionDays"}
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["RETENTION_DAYS"] == {"Ref": "RetentionDays"}
    assert variables["UNPAID_RETENTION_DAYS"] == {"Ref": "UnpaidRetentionDays"}
    fields = Settings.model_fields
    assert TEMPLATE["Parameters"]["RetentionDays"]["Default"] == fields["retention_days"].default
    assert TEMPLATE["Parameters"]["UnpaidRetentionDays"]["Default"] == fields["unpaid_retention_days"].default


@pytest.mark.parametrize("function_id", ["ReportFunction", "SweeperFunction", "GenerateFunction"])
def test_functions_that_erase_pdfs_may_list_and_delete_every_version(function_id: str) -> None:
    policies = FUNCTIONS[function_id]["Properties"]["Policies"]
    statements = [s for policy in policies if "Statement" in policy for s in policy["Statement"]]
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucketVersions"} <= actions


def test_browsers_may_send_delete_to_the_api() -> None:
    assert "DELETE" in RESOURCES["HttpApi"]["Properties"]["CorsConfiguration"]["AllowMethods"]


def _s3_statements(function_id: str) -> list[dict[str, Any]]:
    policies = FUNCTIONS[function_id]["Properties"]["Policies"]
    statements = [s for policy in policies if "Statement" in policy for s in policy["Statement"]]
    return [s for s in statements if any(str(a).startswith("s3:") for a in _actions(s))]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_only_the_generate_function_writes_pdfs() -> None:
    writers = {fid for fid in FUNCTIONS for s in _s3_statements(fid) if "s3:PutObject" in _actions(s)}
    assert writers == {"GenerateFunction"}


@pytest.mark.parametrize("function_id", ["ReportFunction", "SweeperFunction", "OperationsFunction"])
def test_functions_that_only_erase_list_the_bucket_under_the_reports_prefix_alone(function_id: str) -> None:
    listing = [s for s in _s3_statements(function_id) if any("List" in a for a in _actions(s))]
    assert listing
    assert all(s["Condition"] == {"StringLike": {"s3:prefix": "reports/*"}} for s in listing)
    objects = [s for s in _s3_statements(function_id) if s not in listing]
    assert all(s["Resource"] == {"Fn::Sub": "${ReportBucket.Arn}/reports/*"} for s in objects)


@pytest.mark.parametrize("function_id", ["ReportFunction", "SweeperFunction", "OperationsFunction"])
def test_functions_that_erase_may_expire_checkout_sessions(function_id: str) -> None:
    properties = FUNCTIONS[function_id]["Properties"]
    assert properties["Environment"]["Variables"]["STRIPE_SECRET_KEY_ARN"] == {"Ref": "StripeSecretKeyArn"}
    readable = [
        p["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]
        for p in properties["Policies"]
        if "AWSSecretsManagerGetSecretValuePolicy" in p
    ]
    assert {"Ref": "StripeSecretKeyArn"} in readable
