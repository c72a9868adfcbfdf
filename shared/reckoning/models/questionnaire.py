"""The questionnaire as versioned data, and validation of answers against it.

Every version ever served lives in `reckoning/questionnaires/<version>.json`, and
`current.json` names the one new submissions use. A stored submission is read
against the version it was submitted with. Besides what clients see, a file holds
the vocabulary the validator and the offline writer need for its questions
(`role`, `contextWords`, option `synonyms`, `writer` phrasing); those fields are
never served, so a new version is data, not code.
"""

from __future__ import annotations

import json
import string
from functools import cache, cached_property
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from reckoning.errors import FieldError, PermanentFailure
from reckoning.models import (
    CONTROL,
    CONTROL_BUT_LINES,
    CONTROL_CHARACTERS,
    CONTROL_CHARACTERS_BUT_LINES,
    END,
    SPACE,
    SPACE_NOT_CONTROL,
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


class UnknownQuestionnaire(PermanentFailure):
    """This questionnaire version is not in this build."""


class Questionnaires:
    """The versions in one folder: `<version>.json` each, and `current.json` naming the current one."""

    def __init__(self, folder: Traversable) -> None:
        self.folder = folder
        self._loaded: dict[str, Questionnaire] = {}

    def versions(self) -> list[str]:
        names = (entry.name for entry in self.folder.iterdir() if entry.name.endswith(".json"))
        return sorted(name.removesuffix(".json") for name in names if name != "current.json")

    @cached_property
    def current_version(self) -> str:
        return str(json.loads(self.folder.joinpath("current.json").read_text(encoding="utf-8"))["current"])

    def current(self) -> Questionnaire:
        return self.version(self.current_version)

    def version(self, version: str) -> Questionnaire:
        if version not in self._loaded:
            if version not in self.versions():  # only names read from the folder reach the file system
                raise UnknownQuestionnaire(f"questionnaire {version!r} is not in this build", kind="questionnaire")
            raw = self.folder.joinpath(f"{version}.json").read_text(encoding="utf-8")
            questionnaire = Questionnaire.model_validate_json(raw)
            if questionnaire.version != version:
                raise ValueError(f"{version}.json holds version {questionnaire.version}")
            self._loaded[version] = questionnaire
        return self._loaded[version]


@cache
def served() -> Questionnaires:
    """The versions this build serves and reads, shipped inside the package."""
    return Questionnaires(files("reckoning").joinpath("questionnaires"))


def current() -> Questionnaire:
    return served().current()


_NO_ANSWER: dict[str, Any] = {"enum": [None, "", []], "description": "No answer (optional questions only)."}


def answers_schema(questionnaire: Questionnaire) -> dict[str, Any]:
    """The JSON Schema of the answers `validate_answers` accepts: one property per question, with its type,
    bounds and options; required questions required; nothing else. tests/unit/test_answers_schema.py holds
    the two to each other."""
    properties = {}
    for question in questionnaire.questions:
        schema = {"description": question.prompt, **_answer_schema(question)}
        properties[question.id] = schema if question.required else {"anyOf": [schema, _NO_ANSWER]}
    required = [q.id for q in questionnaire.questions if q.required]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _answer_schema(question: Question) -> dict[str, Any]:
    match question:
        case TextQuestion():
            return {
                "type": "string",
                "minLength": 1,
                "maxLength": question.max_length,
                "pattern": _text_pattern(question),
            }
        case ScaleQuestion():
            return {"type": "integer", "minimum": question.min, "maximum": question.max}
        case NumberQuestion():
            return {"type": "number", "minimum": question.min, "maximum": question.max}
        case ChoiceQuestion():
            return {"type": "string", "enum": [o.value for o in question.options]}
        case MultiChoiceQuestion():
            items = {"type": "string", "enum": [o.value for o in question.options]}
            bounds = {"minItems": max(1, question.min_selections), "maxItems": question.max_selections}
            return {"type": "array", "items": items, "uniqueItems": True, **bounds}


def _text_pattern(question: TextQuestion) -> str:
    """No control characters (but line breaks and tabs where multiline), and at least `min_length`
    characters once the spaces around them are stripped."""
    allowed = f"[^{CONTROL_BUT_LINES if question.multiline else CONTROL}]"
    space = f"[{SPACE_NOT_CONTROL}{'\\t\\n\\r' if question.multiline else ''}]"
    solid = f"[^{CONTROL}{SPACE}]"
    n = question.min_length
    if n == 0:
        return f"^{allowed}*{END}"
    middle = f"(?:{allowed}*{solid})?" if n == 1 else f"{allowed}{{{n - 2},}}{solid}"
    return f"^{space}*{solid}{middle}{space}*{END}"


def normalized(questionnaire: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers as stored: a whole number sent as 7.0 is the 7 it means (JSON and its schemas do not tell
    them apart); everything else as sent."""
    scales = {q.id for q in questionnaire.questions if isinstance(q, ScaleQuestion)}

    def whole(key: str, value: Any) -> Any:
        integral = isinstance(value, float) and value.is_integer()
        return int(value) if key in scales and integral else value

    return {key: whole(key, value) for key, value in answers.items()}


def answered(value: Any) -> bool:
    """Whether a value is an answer: an empty text or an empty selection is none."""
    return value is not None and value != "" and value != []


def validate_answers(questionnaire: Questionnaire, answers: dict[str, Any]) -> list[FieldError]:
    """One error per offending field; an empty list means the answers are acceptable."""
    known = {question.id for question in questionnaire.questions}
    problems = [FieldError(f"answers.{key}", "Unknown question.") for key in answers if key not in known]
    for question in questionnaire.questions:
        value = answers.get(question.id)
        if answered(value):
            message = _check(question, value)
        else:
            message = "This question needs an answer." if question.required else None
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
    control = CONTROL_CHARACTERS_BUT_LINES if question.multiline else CONTROL_CHARACTERS
    if control.search(value):
        return "Contains control characters."
    length = len(value.strip())
    if length < question.min_length:
        return f"Must be at least {question.min_length} characters."
    if len(value) > question.max_length:
        return f"Must be at most {question.max_length} characters."
    return None


def _check_number(question: ScaleQuestion | NumberQuestion, value: Any) -> str | None:
    whole = isinstance(question, ScaleQuestion)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN
        return "Must be a whole number." if whole else "Must be a number."
    if whole and isinstance(value, float) and not value.is_integer():  # 7.0 is JSON's 7 (see `normalized`)
        return "Must be a whole number."
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
