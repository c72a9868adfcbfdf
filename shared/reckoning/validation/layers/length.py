"""Layer 3 — length and truncation: the model finished, no text stops mid-sentence, the whole is long enough.

Certain: the stop reason, a passage cut off mid-sentence, a report too short as a whole. Style only: the size
of one section, the summary or the closing (a short section in a report of full length is a choice, not a fault).
"""

from __future__ import annotations

from reckoning.validation.result import Finding, LayerResult, outcome
from reckoning.validation.subject import Subject
from reckoning.validation.text import ends_a_sentence, words
from reckoning.validation.view import ReportView

LAYER = "length"
FINISHED = frozenset({"end_turn", "tool_use", "stop_sequence", None})
BODY_WORDS = (70, 420)
REPORT_WORDS = (400, 3500)
TOO_SHORT = 150  # words in all: below this no report of full length is possible
SUMMARY_MAX_WORDS = 110
CLOSING_WORDS = (8, 160)


def check(subject: Subject) -> LayerResult:
    view = subject.view
    findings = _stop_reason(subject.meta.stop_reason) + _truncated(view) + _sizes(view)
    return outcome(LAYER, findings, ok="complete, with sensible lengths")


def _stop_reason(stop_reason: str | None) -> list[Finding]:
    if stop_reason == "max_tokens":
        return [Finding(1.0, "generation hit the token limit, so the report is cut off; write it more compactly")]
    if stop_reason == "refusal":
        return [Finding(1.0, "the model refused to write the report")]
    if stop_reason not in FINISHED:
        return [Finding(0.3, f"generation stopped for an unexpected reason ({stop_reason})")]
    return []


def _truncated(view: ReportView) -> list[Finding]:
    return [
        Finding(1.0, f"{passage.where} ends mid-sentence")
        for passage in view.prose()
        if passage.text.strip() and not ends_a_sentence(passage.text)
    ]


def _sizes(view: ReportView) -> list[Finding]:
    findings: list[Finding] = []
    low, high = BODY_WORDS
    for n, section in enumerate(view.sections, start=1):
        count = len(words(section.body))
        if 0 < count < low:
            findings.append(Finding(0.1, f"section {n} is short ({count} words; aim for {low}-{high})", kind="style"))
        elif count > high:
            findings.append(Finding(0.1, f"section {n} is long ({count} words; aim for {low}-{high})", kind="style"))
    if len(words(view.summary)) > SUMMARY_MAX_WORDS:
        findings.append(Finding(0.1, f"the summary is over {SUMMARY_MAX_WORDS} words", kind="style"))
    low, high = CLOSING_WORDS
    if view.closing.strip() and not low <= len(words(view.closing)) <= high:
        findings.append(Finding(0.1, f"the closing should be {low}-{high} words", kind="style"))
    low, high = REPORT_WORDS
    total = len(words(view.full_text()))
    if total < TOO_SHORT:
        findings.append(Finding(1.0, f"the report is far too short ({total} words; write at least {low})"))
    elif total < low:
        findings.append(Finding(0.2, f"the report is thin ({total} words; aim for at least {low})", kind="style"))
    elif total > high:
        findings.append(Finding(0.2, f"the report is too long ({total} words; stay under {high})", kind="style"))
    return findings
