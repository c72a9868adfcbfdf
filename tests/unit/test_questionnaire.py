"""The questionnaire definition and answer validation, built from the data."""

import json
import re
import unicodedata
from typing import Any

import pytest
from pydantic import ValidationError

from reckoning.models import CONTROL_CHARACTERS, CONTROL_CHARACTERS_BUT_LINES
from reckoning.models.answers import normalized, validate_answers
from reckoning.models.questionnaire import Questionnaire
from reckoning.questionnaires import UnknownQuestionnaire, current, served
from tests.helpers import SAMPLE_ANSWERS


def problems(**changes: Any) -> dict[str, str]:
    answers = {**SAMPLE_ANSWERS, **changes}
    return {p.field: p.message for p in validate_answers(current(), answers)}


def test_the_definition_is_versioned_and_uses_every_question_type() -> None:
    q = current()
    assert q.version
    assert 10 <= len(q.questions) <= 15
    assert {question.type for question in q.questions} == {"text", "scale", "number", "choice", "multi_choice"}


def test_sample_answers_are_valid() -> None:
    assert problems() == {}


def test_optional_questions_may_be_left_out() -> None:
    answers = {k: v for k, v in SAMPLE_ANSWERS.items() if k not in {"support", "relationships_state"}}
    assert validate_answers(current(), answers) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"bogus": 1}, "answers.bogus", "Unknown question."),
        ({"proud_of": None}, "answers.proud_of", "This question needs an answer."),
        ({"proud_of": ""}, "answers.proud_of", "This question needs an answer."),
        ({"life_overall": "7"}, "answers.life_overall", "Must be a whole number."),
        ({"life_overall": 7.5}, "answers.life_overall", "Must be a whole number."),
        ({"life_overall": True}, "answers.life_overall", "Must be a whole number."),
        ({"life_overall": 11}, "answers.life_overall", "Must be between 1 and 10."),
        ({"life_overall": 0}, "answers.life_overall", "Must be between 1 and 10."),
        ({"hours_for_yourself": 169}, "answers.hours_for_yourself", "Must be between 0 and 168."),
        ({"hours_for_yourself": "3"}, "answers.hours_for_yourself", "Must be a number."),
        ({"life_overall": 10**400}, "answers.life_overall", "Must be between 1 and 10."),
        ({"hours_for_yourself": -(10**400)}, "answers.hours_for_yourself", "Must be between 0 and 168."),
        ({"hours_for_yourself": float("inf")}, "answers.hours_for_yourself", "Must be between 0 and 168."),
        ({"hours_for_yourself": float("nan")}, "answers.hours_for_yourself", "Must be a number."),
        ({"money_situation": "rich"}, "answers.money_situation", "Must be one of the listed options."),
        ({"focus_areas": "work"}, "answers.focus_areas", "Must be a list of options."),
        ({"focus_areas": ["work", "work"]}, "answers.focus_areas", "Options must not repeat."),
        ({"focus_areas": ["work", "yachts"]}, "answers.focus_areas", "Must be among the listed options."),
        (
            {"focus_areas": ["work", "money", "health", "home", "play"]},
            "answers.focus_areas",
            "Choose between 1 and 4 options.",
        ),
        ({"proud_of": "x" * 2001}, "answers.proud_of", "Must be at most 2000 characters."),
        ({"proud_of": "too short"}, "answers.proud_of", "Must be at least 10 characters."),
        ({"one_sentence": "line one\nline two here"}, "answers.one_sentence", "Contains control characters."),
        ({"proud_of": "a bell \x07 in the middle of it"}, "answers.proud_of", "Contains control characters."),
        ({"proud_of": "null \x00 byte in the middle"}, "answers.proud_of", "Contains control characters."),
    ],
)
def test_each_bad_answer_gets_one_clear_message(changes: dict[str, Any], field: str, message: str) -> None:
    assert problems(**changes) == {field: message}


def test_multiline_answers_keep_their_newlines() -> None:
    assert problems(proud_of="First paragraph here.\n\nSecond one, with a tab\tinside.") == {}


def test_several_bad_fields_give_one_detail_each() -> None:
    found = problems(life_overall=99, money_situation="rich", bogus="x")
    assert set(found) == {"answers.life_overall", "answers.money_situation", "answers.bogus"}


class TestVersions:
    def test_every_version_in_the_package_loads_and_the_current_one_is_among_them(self) -> None:
        versions = served().versions()

        assert served().current_version in versions
        assert all(served().version(v).version == v for v in versions)
        assert current() is served().version(served().current_version)

    def test_an_unknown_version_is_a_permanent_failure_that_reads_nothing(self) -> None:
        for version in ("1999-01", "../models/questionnaire", "current", ""):
            with pytest.raises(UnknownQuestionnaire):
                served().version(version)

    def test_the_served_form_carries_no_writer_or_validator_vocabulary(self) -> None:
        served_form = current().model_dump(mode="json", by_alias=True, exclude_none=True)
        text = json.dumps(served_form)

        assert "writer" not in text and "contextWords" not in text and "synonyms" not in text
        assert {q["id"]: q.get("role") for q in served_form["questions"]}["focus_areas"] == "focus"

    def test_the_focus_question_names_the_areas(self) -> None:
        assert list(current().areas())[:3] == ["work", "money", "health"]
        assert current().areas()["play"].label == "Rest, fun and creativity"

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"writer": {"say": "You said {quote}."}}, "allowed: ['label']"),
            ({"writer": {"say": "{label.__class__}"}}, "allowed: ['label']"),
            ({"writer": {"sayy": "typo"}}, "Extra inputs are not permitted"),
            ({"role": "focus"}, "at most one question has the role 'focus'"),
        ],
    )
    def test_a_malformed_file_fails_loudly(self, change: dict[str, Any], message: str) -> None:
        raw = json.loads(served().folder.joinpath(f"{served().current_version}.json").read_text(encoding="utf-8"))
        next(q for q in raw["questions"] if q["id"] == "money_situation").update(change)
        with pytest.raises(ValidationError, match=re.escape(message)):
            Questionnaire.model_validate(raw)


def test_the_control_character_expressions_are_unicodes_categories_cc_and_cs() -> None:
    every = [chr(point) for point in range(0x110000)]
    control = {ch for ch in every if unicodedata.category(ch) in {"Cc", "Cs"}}
    assert {ch for ch in every if CONTROL_CHARACTERS.match(ch)} == control
    assert {ch for ch in every if CONTROL_CHARACTERS_BUT_LINES.match(ch)} == control - {"\t", "\n", "\r"}


def test_a_whole_number_sent_as_a_float_is_that_number() -> None:
    sent = {**SAMPLE_ANSWERS, "life_overall": 7.0, "hours_for_yourself": 3.0}
    assert validate_answers(current(), sent) == []
    stored = normalized(current(), sent)
    assert stored["life_overall"] == 7 and isinstance(stored["life_overall"], int)
    assert isinstance(stored["hours_for_yourself"], float)  # a number question keeps what was sent
