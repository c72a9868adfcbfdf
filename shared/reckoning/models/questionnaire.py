"""The questionnaire as versioned data, and validation of answers against it."""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from importlib.resources import files
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from reckoning.errors import FieldError
from reckoning.models import ApiModel


class Option(ApiModel):
    value: str
    label: str


class _Question(ApiModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    area: str
    prompt: str
    help: str | None = None
    required: bool


class TextQuestion(_Question):
    type: Literal["text"]
    min_length: int = Field(ge=0)
    max_length: int = Field(ge=1)
    multiline: bool = False


class ScaleQuestion(_Question):
    type: Literal["scale"]
    min: int
    max: int


class NumberQuestion(_Question):
    type: Literal["number"]
    min: float
    max: float


class ChoiceQuestion(_Question):
    type: Literal["choice"]
    options: list[Option] = Field(min_length=2)


class MultiChoiceQuestion(_Question):
    type: Literal["multi_choice"]
    options: list[Option] = Field(min_length=2)
    min_selections: int = Field(ge=0)
    max_selections: int = Field(ge=1)


type Question = Annotated[
    TextQuestion | ScaleQuestion | NumberQuestion | ChoiceQuestion | MultiChoiceQuestion,
    Field(discriminator="type"),
]


class Questionnaire(ApiModel):
    version: str
    title: str
    description: str
    questions: list[Question]

    @model_validator(mode="after")
    def _ids_unique(self) -> Questionnaire:
        ids = [q.id for q in self.questions]
        if len(ids) != len(set(ids)):
            raise ValueError("question ids must be unique")
        return self

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


@cache
def current() -> Questionnaire:
    raw = files("reckoning.models").joinpath("questionnaire.json").read_text()
    return Questionnaire.model_validate(json.loads(raw))


def validate_answers(questionnaire: Questionnaire, answers: dict[str, Any]) -> list[FieldError]:
    """One error per offending field; an empty list means the answers are acceptable."""
    problems: list[FieldError] = []
    for key in answers:
        if questionnaire.question(key) is None:
            problems.append(FieldError(f"answers.{key}", "Unknown question."))
    for question in questionnaire.questions:
        value = answers.get(question.id)
        if value is None or value == "" or value == []:
            if question.required:
                problems.append(FieldError(f"answers.{question.id}", "This question needs an answer."))
            continue
        message = _check(question, value)
        if message:
            problems.append(FieldError(f"answers.{question.id}", message))
    return problems


def _check(question: Question, value: Any) -> str | None:
    match question:
        case TextQuestion():
            return _check_text(question, value)
        case ScaleQuestion() | NumberQuestion():
            return _check_number(question, value)
        case ChoiceQuestion():
            if not isinstance(value, str) or value not in {o.value for o in question.options}:
                return "Must be one of the listed options."
        case MultiChoiceQuestion():
            return _check_multi(question, value)
    return None


def _check_text(question: TextQuestion, value: Any) -> str | None:
    if not isinstance(value, str):
        return "Must be text."
    allowed = {"\n", "\r", "\t"} if question.multiline else set()
    if any(unicodedata.category(ch) in {"Cc", "Cs"} and ch not in allowed for ch in value):
        return "Contains control characters."
    length = len(value.strip())
    if length < question.min_length:
        return f"Must be at least {question.min_length} characters."
    if len(value) > question.max_length:
        return f"Must be at most {question.max_length} characters."
    return None


def _check_number(question: ScaleQuestion | NumberQuestion, value: Any) -> str | None:
    whole = isinstance(question, ScaleQuestion)
    if isinstance(value, bool) or not isinstance(value, int if whole else int | float) or value != value:  # NaN
        return "Must be a whole number." if whole else "Must be a number."
    # Compared as they are: Python compares ints and floats exactly, where float() of a 400-digit
    # integer overflows; ±infinity is simply out of range.
    if not question.min <= value <= question.max:
        return f"Must be between {question.min:g} and {question.max:g}."
    return None


def _check_multi(question: MultiChoiceQuestion, value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "Must be a list of options."
    if len(set(value)) != len(value):
        return "Options must not repeat."
    if not set(value) <= {o.value for o in question.options}:
        return "Must be among the listed options."
    if not question.min_selections <= len(value) <= question.max_selections:
        return f"Choose between {question.min_selections} and {question.max_selections} options."
    return None
