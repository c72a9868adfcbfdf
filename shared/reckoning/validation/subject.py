"""What every layer judges, built once per run: the raw report, its forgiving view, the person's facts, the metadata."""

from __future__ import annotations

from dataclasses import dataclass

from reckoning.models.submission import Submission
from reckoning.validation.facts import Facts, facts_of
from reckoning.validation.result import GenerationMeta
from reckoning.validation.view import ReportView


@dataclass(frozen=True, slots=True)
class Subject:
    report: object  # the model's output as produced: only the structure layer looks at it raw
    view: ReportView
    facts: Facts
    meta: GenerationMeta
    submission: Submission

    @classmethod
    def of(cls, report: object, submission: Submission, meta: GenerationMeta) -> Subject:
        return cls(report, ReportView.of(report), facts_of(submission), meta, submission)
