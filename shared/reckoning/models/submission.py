"""What the writer and the validator know of a person: their name and their answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reckoning.models.questionnaire import Questionnaire, current


@dataclass(frozen=True, slots=True)
class Submission:
    name: str | None
    answers: dict[str, Any]
    questionnaire: Questionnaire

    @classmethod
    def of(cls, name: str | None, answers: dict[str, Any]) -> Submission:
        return cls(name=name, answers=answers, questionnaire=current())
