"""Layer 1 — structure: the report matches the schema and the contract's counts (DESIGN §3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from reckoning.models.report import Report
from reckoning.validation.result import Finding, LayerResult, outcome
from reckoning.validation.subject import Subject
from reckoning.validation.text import sentences
from reckoning.validation.view import ReportView

LAYER = "structure"
SUMMARY_SENTENCES = (2, 4)
NEXT_STEPS = (3, 7)


def check(subject: Subject) -> LayerResult:
    """Judges the raw output: the model's output is only assumed to be an object once this layer says so."""
    report = subject.report
    if not isinstance(report, Mapping):
        findings = [Finding(1.0, "the report is not a JSON object")]
    else:
        findings = _schema(report) + _counts(subject.view)
    # The frontend, the PDF and the email all rely on the shape: any deviation blocks.
    return outcome(LAYER, findings, ok="matches the report schema", pass_mark=1.0, block_below=1.0)


def _schema(report: Mapping[str, Any]) -> list[Finding]:
    try:
        Report.model_validate(report)
    except ValidationError as exc:
        # pydantic's `msg` never echoes the input, so no report text leaks into the reason.
        return [
            Finding(1.0, f"schema: {'.'.join(str(p) for p in error['loc']) or 'report'}: {error['msg']}")
            for error in exc.errors()
        ]
    return []


def _counts(view: ReportView) -> list[Finding]:
    findings: list[Finding] = []
    low, high = SUMMARY_SENTENCES
    count = len(sentences(view.summary))
    if view.summary and not low <= count <= high:  # a preference of length: it may lower confidence, never block
        findings.append(Finding(0.1, f"the summary has {count} sentences; {low} to {high} read best", kind="style"))
    low, high = NEXT_STEPS
    steps = len(view.next_steps)
    if not low <= steps <= high:
        findings.append(Finding(0.5, f"there are {steps} next steps; there must be {low} to {high}"))
    return findings
