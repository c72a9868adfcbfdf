"""Answers against a questionnaire: their JSON Schema, validation and the form they are stored in."""

from __future__ import annotations

from typing import Any

from reckoning.errors import FieldError
from reckoning.models import (
    CONTROL,
    CONTROL_BUT_LINES,
    CONTROL_CHARACTERS,
    CONTROL_CHARACTERS_BUT_LINES,
    END,
    SPACE,
    SPACE_NOT_CONTROL,
)
from reckoning.models.questionnaire import (
    ChoiceQuestion,
    MultiChoiceQuestion,
    NumberQuestion,
    Question,
    Questionnaire,
    ScaleQuestion,
    TextQuestion,
)

# No answer (optional questions only): null, an empty text or an empty selection. One schema per JSON type, so a
# generated client can model each (a mixed-type enum makes generators drop the whole operation).
_NO_ANSWER: list[dict[str, Any]] = [
    {"type": "null", "description": "No answer."},
    {"type": "string", "maxLength": 0, "description": "No answer: an empty text."},
    {"type": "array", "maxItems": 0, "items": {}, "description": "No answer: an empty selection."},
]


def answers_schema(questionnaire: Questionnaire) -> dict[str, Any]:
    """The JSON Schema of the answers `validate_answers` accepts: one property per question, with its type,
    bounds and options; required questions required; nothing else. tests/unit/test_answers_schema.py holds
    the two to each other."""
    properties = {}
    for question in questionnaire.questions:
        schema = {"description": question.prompt, **_answer_schema(question)}
        properties[question.id] = schema if question.required else {"anyOf": [schema, *_NO_ANSWER]}
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
