"""What a judge is given and what it answers: suspicions in, a verdict with verbatim evidence out.

A rule can be certain of a template token or a cut-off sentence; it cannot be certain that a sentence
contradicts an answer, gives a directive or hurts a person in crisis. For those categories the layers only
*suspect* (a `Suspicion`, with the passage that raised it), and a `Judge` decides: a second model call in
production (`providers.judge.ClaudeJudge`), the offline `HeuristicJudge` otherwise. Every finding a judge
returns must quote the draft verbatim; `verified` drops (and counts) those whose quote is not there.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    """The judgement categories: what only a careful reader can decide."""

    GROUNDING = "grounding"  # generic, could be sent to anyone; not about what they wrote
    CONTRADICTION = "contradiction"  # says something their answers contradict (a job, place, relation, amount)
    INVENTED = "invented"  # states facts about them that appear nowhere in the answers
    DIRECTIVE = "directive"  # tells them what to do medically, legally, financially, or drastically and now
    DIAGNOSIS = "diagnosis"  # names a condition they have
    GUARANTEE = "guarantee"  # promises an outcome
    TONE = "tone"  # demeaning, shaming, mocking or judgemental
    CRISIS = "crisis"  # crisis in the answers not met plainly with immediate support, or minimised


# Which of the ten layers answers for each category.
CATEGORY_LAYER: dict[Category, str] = {
    Category.GROUNDING: "grounding",
    Category.CONTRADICTION: "consistency",
    Category.INVENTED: "consistency",
    Category.DIRECTIVE: "safety",
    Category.DIAGNOSIS: "safety",
    Category.GUARANTEE: "safety",
    Category.TONE: "safety",
    Category.CRISIS: "safety",
}


@dataclass(frozen=True, slots=True)
class Suspicion:
    """A rule's lead for the judge: never blocks alone. `strength` is how sure the rule is (0..1)."""

    category: Category
    quote: str  # verbatim from the draft
    reason: str
    strength: float = 0.5


@dataclass(frozen=True, slots=True)
class JudgeFinding:
    category: Category
    quote: str  # verbatim from the draft
    answer: str | None  # the answer it contradicts, where there is one
    reason: str


@dataclass(frozen=True, slots=True)
class Verdict:
    findings: tuple[JudgeFinding, ...]
    passed: Mapping[Category, bool]  # the judge's verdict per category
    model: str
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    dropped_quotes: int = 0  # findings dropped because their quote is not in the draft
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "passed": {str(c): ok for c, ok in self.passed.items()},
            "findings": [
                {"category": str(f.category), "quote": f.quote, "answer": f.answer, "reason": f.reason}
                for f in self.findings
            ],
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "cacheCreationInputTokens": self.cache_creation_input_tokens,
            "cacheReadInputTokens": self.cache_read_input_tokens,
            "droppedQuotes": self.dropped_quotes,
        }


_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-"})


def comparable(text: str) -> str:
    """Text reduced for a quote check: NFC, straight quotes, plain dashes, single spaces, no case."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES).translate(_DASHES)
    return _SPACE.sub(" ", text).strip().casefold()


def quoted_in(quote: str, draft: str) -> bool:
    """Whether `quote` (trimmed of surrounding quotation marks and ellipses) occurs in the draft text."""
    core = comparable(quote).strip(" \"'.…")
    return bool(core) and all(part.strip() in draft for part in re.split(r"\.\.\.|…", core) if part.strip())


def verified(verdict: Verdict, draft_text: str) -> Verdict:
    """The verdict with only the findings whose quote is in the draft; the rest counted in `dropped_quotes`."""
    draft = comparable(draft_text)
    kept = tuple(f for f in verdict.findings if quoted_in(f.quote, draft))
    return replace(verdict, findings=kept, dropped_quotes=verdict.dropped_quotes + len(verdict.findings) - len(kept))
