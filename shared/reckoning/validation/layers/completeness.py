"""Layer 2 — completeness: a section for every area the person asked about, and no empty parts."""

from __future__ import annotations

from collections import Counter

from reckoning.validation.facts import Facts, canonical_area
from reckoning.validation.result import Finding, LayerResult, outcome
from reckoning.validation.subject import Subject
from reckoning.validation.view import ReportView

LAYER = "completeness"
MISSING_AREA = 0.6
EMPTY_FIELD = 0.6
UNKNOWN_AREA = 0.1
DUPLICATE_AREA = 0.3


def check(subject: Subject) -> LayerResult:
    view, facts = subject.view, subject.facts
    wanted = facts.focus_areas or facts.written_areas  # the focus areas they chose; failing that, those they wrote of
    findings = _areas(view, facts, wanted) + _empty_fields(view)
    if not view.sections:
        findings.append(Finding(1.0, "the report has no sections"))
    if not view.next_steps:
        findings.append(Finding(1.0, "the report has no next steps"))
    return outcome(LAYER, findings, ok=f"covers all {len(wanted)} areas the person asked about")


def _areas(view: ReportView, facts: Facts, wanted: tuple[str, ...]) -> list[Finding]:
    covered = [canonical_area(facts, section.area) for section in view.sections]
    findings = [
        Finding(MISSING_AREA, f"no section for the area '{area}' the person asked about")
        for area in wanted
        if area not in covered
    ]
    for n, area in enumerate(covered, start=1):
        if area is None:
            findings.append(Finding(UNKNOWN_AREA, f"section {n} names no known life area", kind="style"))
    for area, times in Counter(a for a in covered if a).items():
        if times > 1:
            findings.append(Finding(DUPLICATE_AREA, f"{times} sections cover the area '{area}'; use one"))
    return findings


def _empty_fields(view: ReportView) -> list[Finding]:
    fields = {"the title": view.title, "the summary": view.summary, "the closing": view.closing}
    for n, section in enumerate(view.sections, start=1):
        fields[f"the heading of section {n}"] = section.heading
        fields[f"the body of section {n}"] = section.body
    for n, step in enumerate(view.next_steps, start=1):
        fields[f"the action of next step {n}"] = step.action
        fields[f"the why of next step {n}"] = step.why
    return [Finding(EMPTY_FIELD, f"{where} is empty") for where, text in fields.items() if not text.strip()]
