"""The offline judge: decides the judgement categories from the rules' suspicions, without a model.

A suspicion the rules are sure enough of (`strength` at or above `decide_at`) becomes a finding; so does a
category suspected again and again in one report. Everything else passes. Offline, therefore, the certain
rules plus the stronger suspicions decide; in production the Claude judge reads the whole draft instead.

`judge_reply` answers a Messages-API judge request (as `providers.judge.ClaudeJudge` builds it) with the
tool input this judge would give, so a local Messages-API stub can stand in for the real judge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from reckoning.models.judgement import Category, JudgeFinding, Suspicion, Verdict
from reckoning.models.submission import Submission

MODEL = "heuristic-judge"
DECIDE_AT = 0.55  # a single suspicion this strong is a finding
REPEATED = 3  # this many weaker suspicions of one category in one report are a finding


class HeuristicJudge:
    model = MODEL

    def __init__(self, decide_at: float = DECIDE_AT) -> None:
        self.decide_at = decide_at

    def judge(self, submission: Submission, report: Mapping[str, Any], suspicions: tuple[Suspicion, ...]) -> Verdict:
        by_category: defaultdict[Category, list[Suspicion]] = defaultdict(list)
        for suspicion in suspicions:
            by_category[suspicion.category].append(suspicion)
        findings = [finding for leads in by_category.values() for finding in self._decide(leads)]
        failed = {finding.category for finding in findings}
        return Verdict(
            findings=tuple(findings), passed={category: category not in failed for category in Category}, model=MODEL
        )

    def _decide(self, leads: list[Suspicion]) -> list[JudgeFinding]:
        strong = [lead for lead in leads if lead.strength >= self.decide_at]
        if not strong and len(leads) >= REPEATED:
            strong = [max(leads, key=lambda lead: lead.strength)]
        return [JudgeFinding(lead.category, lead.quote, None, lead.reason) for lead in strong]
