"""Every function answers every sample event in infra/events through the Docker-less invoke."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reckoning_local.stack import StackOptions, invoke

EVENTS = Path(__file__).resolve().parents[2] / "infra" / "events"
FUNCTIONS = {
    "submit": "SubmitFunction",
    "report": "ReportFunction",
    "checkout": "CheckoutFunction",
    "webhook": "WebhookFunction",
    "generate": "GenerateFunction",
    "sweeper": "SweeperFunction",
}
# What each sample gets on an empty database (the tokens and reckonings in them are unknown there).
EXPECTED: dict[str, Any] = {
    "submit/get_questionnaire": 200,
    "submit/post_reckoning": 201,
    "submit/post_reckoning_invalid": 400,
    "report/get_report": 404,
    "report/get_report_pdf": 404,
    "report/get_report_export": 404,
    "report/delete_report": 404,
    "report/post_report_links": 202,
    "checkout/post_checkout": 404,
    "webhook/stripe_checkout_completed": 400,  # its signature is older than the 300 s tolerance
    "generate/sqs_batch": {"batchItemFailures": []},
    "sweeper/scheduled": {"sent": 0, "failed": 0},
}
SAMPLES = sorted(p for p in EVENTS.glob("*/*.json"))


def test_every_function_has_sample_events() -> None:
    assert {p.parent.name for p in SAMPLES} == set(FUNCTIONS)
    assert {f"{p.parent.name}/{p.stem}" for p in SAMPLES} == set(EXPECTED)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_sample_event_gets_its_answer(sample: Path, database_url: str, tmp_path: Path) -> None:
    event = json.loads(sample.read_text())
    response = invoke(FUNCTIONS[sample.parent.name], event, StackOptions(state_dir=tmp_path))
    expected = EXPECTED[f"{sample.parent.name}/{sample.stem}"]
    if isinstance(expected, int):
        assert response["statusCode"] == expected, response.get("body")
        assert json.loads(response["body"])["success"] is (expected < 400)
    else:
        assert response == expected
