"""What the writer and the validator know of a person: their name, answers, and the questionnaire they answered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reckoning.models.questionnaire import Questionnaire
from reckoning.questionnaires import current


@dataclass(frozen=True, slots=True)
class Submission:
    name: str | None
    answers: dict[str, Any]
    questionnaire: Questionnaire

    @classmethod
    def of(cls, name: str | None, answers: dict[str, Any], questionnaire: Questionnaire | None = None) -> Submission:
        """Answers to `questionnaire`: the version they were submitted with (the current one by default)."""
        return cls(name=name, answers=answers, questionnaire=questionnaire or current())

    def focus_areas(self) -> list[str]:
        """The life areas the person chose to reckon with, in their order."""
        focus = self.questionnaire.focus()
        chosen = self.answers.get(focus.id) if focus else None
        return [area for area in chosen if isinstance(area, str)] if isinstance(chosen, list) else []
