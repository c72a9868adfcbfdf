"""`reckoning validate REPORT.json SUBMISSION.json`: table or JSON out, exit 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reckoning.cli import main
from tests.unit.validation.corpus import SUBMISSIONS, good_report


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


@pytest.fixture
def report_file(tmp_path: Path) -> str:
    return write(tmp_path, "report.json", good_report("olga"))


SUBMISSION = str(SUBMISSIONS / "olga.json")


def test_a_good_report_is_released_with_exit_0(report_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", report_file, SUBMISSION]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["layer", "weight", "score", "result", "blocks", "decided", "reason"]
    assert "structure" in out and "repetition" in out
    assert out.rstrip().endswith("released") and "not released" not in out


def test_a_held_report_exits_1_and_shows_the_failing_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = good_report("olga")
    report["closing"] = "As an AI language model, I hope this helps."
    assert main(["validate", write(tmp_path, "r.json", report), SUBMISSION]) == 1
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("placeholders"))
    assert "FAIL" in row and "yes" in row


def test_the_stop_reason_is_taken_into_account(report_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", report_file, SUBMISSION, "--stop-reason", "max_tokens"]) == 1


def test_json_output_is_the_stored_form(report_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", report_file, SUBMISSION, "--json", "--threshold", "0.5"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["released"] is True and out["threshold"] == 0.5
    assert [layer["layer"] for layer in out["layers"]][:2] == ["structure", "completeness"]


@pytest.mark.parametrize(
    ("report", "submission", "message"),
    [
        (None, SUBMISSION, "cannot read the report file"),
        ("{not json", SUBMISSION, "is not valid JSON (line 1, column 2)"),
        ([1, 2], SUBMISSION, "does not hold a JSON object"),
        ({}, '"just a string"', "does not hold a JSON object"),
        ({}, {"email": "a@example.com"}, "no 'answers' object"),
        ({}, {"answers": {}, "name": 7}, "'name' is not a string"),
        ({}, {"answers": {}, "questionnaireVersion": "1999-01"}, "questionnaireVersion is not one of 2026-11-v1"),
    ],
)
def test_unreadable_input_exits_2_with_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], report: Any, submission: Any, message: str
) -> None:
    report_path = str(tmp_path / "missing.json") if report is None else write(tmp_path, "r.json", report)
    submission_path = submission if submission == SUBMISSION else write(tmp_path, "s.json", submission)
    assert main(["validate", report_path, submission_path]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err
