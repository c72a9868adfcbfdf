"""The OpenAPI document says exactly what POST /api/reckoning accepts: the answers schema generated from the
questionnaire, and the patterns of `email` and `name`, accept what validation accepts and nothing else."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from reckoning.models.answers import answers_schema, validate_answers
from reckoning.models.api import EMAIL_PATTERN, NAME_PATTERN, SubmitRequest
from reckoning.models.questionnaire import Question
from reckoning.questionnaires import current
from reckoning_local.openapi import document
from tests.helpers import SAMPLE_ANSWERS, submission

QUESTIONNAIRE = current()
SCHEMA = answers_schema(QUESTIONNAIRE)
VALIDATOR = jsonschema_rs.Draft202012Validator(SCHEMA)  # what Schemathesis checks answers with
CHECKS = settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
EMAIL = jsonschema_rs.Draft202012Validator({"type": "string", "maxLength": 254, "pattern": EMAIL_PATTERN})
NAME = jsonschema_rs.Draft202012Validator({"type": "string", "minLength": 1, "maxLength": 100, "pattern": NAME_PATTERN})
# Text near the edges: spaces Python strips, control characters, line breaks, ordinary letters.
EDGY = st.text(st.sampled_from(["a", "é", " ", "\u3000", "\t", "\n", "\r", "\x00", "\x1f", "\x85", "\x7f", "\u2028"]))


def values_for(question: Question) -> st.SearchStrategy[Any]:
    """Answers a client might send for the question: right, wrong, empty, of another type."""
    options = [o.value for o in getattr(question, "options", [])] or ["x"]
    pattern = SCHEMA["properties"][question.id]
    pattern = pattern.get("pattern") or next((s.get("pattern") for s in pattern.get("anyOf", [])), None)
    return st.one_of(
        st.sampled_from([None, "", [], True, 0, 1, 5, 10, 11, -1, 2.5, 168, 169, "x"]),
        st.integers(-5, 200),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(options),
        st.lists(st.sampled_from([*options, "nope"]), max_size=6),
        EDGY,
        st.from_regex(pattern) if pattern else st.text(),
    )


@st.composite
def answers(draw: st.DrawFn) -> dict[str, Any]:
    answered = dict(SAMPLE_ANSWERS)
    for question in QUESTIONNAIRE.questions:
        choice = draw(st.integers(0, 3))
        if choice == 0:
            answered[question.id] = draw(values_for(question))
        elif choice == 1 and not question.required:
            answered.pop(question.id, None)
    if draw(st.integers(0, 9)) == 0:
        answered[draw(st.sampled_from(["unknown", "Life_overall", "x"]))] = 1
    if draw(st.integers(0, 9)) == 0:
        answered.pop(draw(st.sampled_from([q.id for q in QUESTIONNAIRE.questions])), None)
    return answered


@CHECKS
@given(answers())
def test_the_answers_schema_accepts_exactly_what_validation_accepts(candidate: dict[str, Any]) -> None:
    assert VALIDATOR.is_valid(candidate) == (validate_answers(QUESTIONNAIRE, candidate) == [])


def test_the_sample_is_valid_and_a_short_sentence_is_not() -> None:
    assert VALIDATOR.is_valid(SAMPLE_ANSWERS)
    assert not VALIDATOR.is_valid({**SAMPLE_ANSWERS, "one_sentence": "short"})


def accepted(**fields: Any) -> bool:
    try:
        SubmitRequest.model_validate(submission(**fields))
    except ValidationError:
        return False
    return True


@CHECKS
@given(st.one_of(EDGY, st.from_regex(EMAIL_PATTERN), st.emails(), st.text().map(lambda t: f"{t}@example.com")))
def test_the_email_pattern_is_the_email_check(email: str) -> None:
    assert EMAIL.is_valid(email) == accepted(email=email)


@CHECKS
@given(st.one_of(EDGY, st.from_regex(NAME_PATTERN), st.text()))
def test_the_name_pattern_is_the_name_check(name: str) -> None:
    assert NAME.is_valid(name) == accepted(name=name)


def test_the_document_carries_the_generated_schema() -> None:
    body = document()["components"]["schemas"]["SubmitRequest"]["properties"]
    assert body["answers"]["properties"].keys() == {q.id for q in QUESTIONNAIRE.questions}
    assert body["answers"]["additionalProperties"] is False
    assert body["email"]["pattern"] == EMAIL_PATTERN
