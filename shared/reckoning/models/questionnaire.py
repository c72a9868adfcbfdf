"""The questionnaire's schema: questions of five types, their options and constraints.

A version is data (`reckoning/questionnaires/<version>.json`). Besides what clients see, a file holds
the vocabulary the validator and the offline writer need for its questions
(`role`, `contextWords`, option `synonyms`, `writer` phrasing); those fields are
never served, so a new version is data, not code.
"""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import Field, model_validator

from reckoning.models import (
    ApiModel,
)
from reckoning.models.report import NextStep


class Phrasing(ApiModel):
    """How the offline writer speaks of a question, an option, a level of a scale or a life area.

    Templates may use {quote} and {clause} (their words), {value} and {max} (a score) or {label}
    (the chosen option), as the question's type allows.
    """

    heading: str | None = None  # the section's heading, first answered question's first
    say: str | None = None  # a paragraph stating the answer
    reflection: str | None = None  # a paragraph on what it means
    summary: str | None = None  # a sentence of the report's summary
    paragraphs: tuple[str, ...] = ()  # an area's own paragraphs, to fill its section
    step: NextStep | None = None  # its action and why are templates


class Level(Phrasing):
    below: float | None = None  # for answers under this value; the last level has none


class QuestionPhrasing(Phrasing):
    levels: tuple[Level, ...] = ()

    def level(self, value: float) -> Level | None:
        return next((lv for lv in self.levels if lv.below is None or value < lv.below), None)


class Option(ApiModel):
    value: str
    label: str
    synonyms: tuple[str, ...] = Field(default=(), exclude=True)  # how a report would describe this option
    writer: Phrasing = Field(default_factory=Phrasing, exclude=True)


class _Question(ApiModel):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    area: str
    # "focus": the life areas to reckon with (its options name them); "overview": life as a whole.
    # Neither gets a section of its own.
    role: Literal["focus", "overview"] | None = None
    prompt: str
    help: str | None = None
    required: bool
    context_words: tuple[str, ...] = Field(default=(), exclude=True)  # words tying a sentence to this question
    writer: QuestionPhrasing = Field(default_factory=QuestionPhrasing, exclude=True)


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

PLACEHOLDERS = {"text": {"quote", "clause"}, "scale": {"value", "max"}, "number": {"value", "max"}, "choice": {"label"}}


class Questionnaire(ApiModel):
    version: str
    title: str
    description: str
    questions: list[Question]

    @model_validator(mode="after")
    def _consistent(self) -> Questionnaire:
        ids = [q.id for q in self.questions]
        if len(ids) != len(set(ids)):
            raise ValueError("question ids must be unique")
        if sum(q.role == "focus" for q in self.questions) > 1:
            raise ValueError("at most one question has the role 'focus'")
        for question in self.questions:
            _check_templates(question)
        return self

    def focus(self) -> MultiChoiceQuestion | None:
        """The question whose options are the life areas the person chooses to reckon with."""
        found = next((q for q in self.questions if q.role == "focus"), None)
        return found if isinstance(found, MultiChoiceQuestion) else None

    def areas(self) -> dict[str, Option]:
        """The life areas a person can choose, by key, with their labels and phrasing."""
        focus = self.focus()
        return {option.value: option for option in focus.options} if focus else {}


def _check_templates(question: Question) -> None:
    """A template may only use the placeholders its question's type can fill."""
    allowed = PLACEHOLDERS.get(question.type, set())
    phrasings: list[Phrasing] = [question.writer, *question.writer.levels]
    phrasings += [option.writer for option in getattr(question, "options", [])]
    for phrasing in phrasings:
        texts = [phrasing.heading, phrasing.say, phrasing.reflection, phrasing.summary, *phrasing.paragraphs]
        if phrasing.step:
            texts += [phrasing.step.action, phrasing.step.why]
        for text in filter(None, texts):
            used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            if not used <= allowed:
                raise ValueError(f"{question.id}: a template uses {sorted(used - allowed)}; allowed: {sorted(allowed)}")
