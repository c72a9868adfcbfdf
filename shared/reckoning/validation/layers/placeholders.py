"""Layer 6 — no placeholders or meta-talk: nothing a template, a draft or a chatbot would leave behind."""

from __future__ import annotations

import re

from reckoning.validation.result import Finding, LayerResult, judge
from reckoning.validation.subject import Subject

LAYER = "placeholders"

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("talk about being an AI", re.compile(r"\bas an? (?:AI|artificial intelligence|assistant|chatbot)\b", re.I)),
    ("talk about being a language model", re.compile(r"\blanguage model\b", re.I)),
    ("a bracketed placeholder", re.compile(r"\[(?:[A-Z][\w .'-]{0,30}|insert[^\]]*|name|your [^\]]*)\]")),
    ("a template variable", re.compile(r"\{\{?\s*[A-Za-z_][\w.]*\s*\}?\}|<[A-Z_]{3,}>|\$\{\w+\}")),
    ("filler text", re.compile(r"\blorem ipsum\b", re.I)),
    ("a to-do marker", re.compile(r"\b(?:TODO|TBD|FIXME|XXX)\b")),
    ("an insertion instruction", re.compile(r"\binsert (?:[\w'\u2019]+ ){0,3}here\b|[<\[(]\s*insert\b", re.I)),
    ("a refusal or apology", re.compile(r"\bI (?:cannot|can't|can not|am unable to|'m unable to|won't be able to)\b")),
    ("talk about the report itself", re.compile(
        r"\b(?:here is|here's|below is) (?:your|the|a) (?:\w+ ){0,2}(?:report|reckoning|summary)\b"
        r"|\bI hope this (?:report|helps)\b|\bbased on the (?:information|answers|data) (?:you )?provided\b"
        r"|\b(?:this|the) report (?:was|is) generated\b", re.I)),
    ("leftover markup", re.compile(r"```|\"(?:title|summary|sections|nextSteps|closing)\"\s*:")),
)  # fmt: skip


def check(subject: Subject) -> LayerResult:
    # The person's own words may contain "I cannot…", and a report may quote them.
    own_words = subject.facts.answered_text.casefold()
    findings: list[Finding] = []
    for passage in subject.view.passages():
        for label, pattern in PATTERNS:
            match = pattern.search(passage.text)
            if match and match.group(0).casefold() not in own_words:
                findings.append(Finding(1.0, f"{passage.where} contains {label} ('{match.group(0)}'); remove it"))
    return judge(LAYER, findings, ok="no placeholders or meta-talk")
