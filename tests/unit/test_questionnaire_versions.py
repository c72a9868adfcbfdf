"""A second questionnaire version, with other ids, areas and focus question, runs through every reader of answers.

tests/corpus/questionnaires holds it (as the current version) beside the product's 2026-11-v1: no code knows it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from reckoning.models.answers import validate_answers
from reckoning.models.submission import Submission
from reckoning.providers.offline_writer import OfflineWriter
from reckoning.providers.prompt import user_message
from reckoning.validation import GenerationMeta, ValidationResult, validate
from tests.helpers import SAMPLE_ANSWERS
from tests.unit.validation.corpus import SECOND_EDITION, SECOND_EDITION_ANSWERS, questionnaires


def second(answers: dict[str, Any] | None = None, name: str | None = "Mira") -> Submission:
    registry = questionnaires()
    assert registry.current().version == SECOND_EDITION
    return Submission.of(name, dict(answers or SECOND_EDITION_ANSWERS), registry.current())


def judged(report: dict[str, Any], submission: Submission) -> ValidationResult:
    return validate(report, submission, GenerationMeta())


def failed(result: ValidationResult) -> dict[str, str]:
    return {layer.layer: layer.reason for layer in result.layers if not layer.passed}


def test_answers_are_validated_against_their_own_version() -> None:
    v2 = questionnaires().current()

    assert validate_answers(v2, SECOND_EDITION_ANSWERS) == []
    assert {p.field for p in validate_answers(v2, dict(SECOND_EDITION_ANSWERS, craft_score=7))} == {
        "answers.craft_score"
    }
    assert "answers.life_overall" in {p.field for p in validate_answers(v2, dict(SAMPLE_ANSWERS))}


def test_the_prompt_asks_for_the_new_focus_areas_with_their_labels() -> None:
    message = user_message(second())

    assert "- body (Body and sleep)\n- craft (Craft and career)\n- kin (Kin and friends)" in message
    document = json.loads(message.split("<answers>", 1)[1].split("</answers>", 1)[0])
    assert [entry["id"] for entry in document["answers"]] == list(SECOND_EDITION_ANSWERS)


def test_the_offline_writer_speaks_from_the_new_phrasing_and_the_validator_releases_it() -> None:
    submission = second()
    report = OfflineWriter().write(submission).content
    result = judged(report, submission)

    assert result.released, failed(result)
    assert [s["area"] for s in report["sections"]] == ["body", "craft", "kin"]
    text = json.dumps(report, ensure_ascii=False)
    assert "You put your contentment with life at 5 out of 10." in report["summary"]
    assert "You said your craft still teaches you 2 out of 5." in text
    assert "On a usual night you sleep about 5 hours." in text
    assert "“My brother Tobias and I only talk at birthdays now" in text  # a question with no phrasing of its own
    assert any(step["action"].startswith("Choose a bedtime") for step in report["nextSteps"])


def test_the_validator_checks_numbers_and_choices_with_the_new_vocabulary() -> None:
    submission = second()
    report = OfflineWriter().write(submission).content
    body = report["sections"][1]["body"]

    report["sections"][1]["body"] = body.replace("teaches you 2 out of 5", "teaches you 4 out of 5")
    assert "consistency" in failed(judged(report, submission))

    report["sections"][1]["body"] = body + "\n\nWith cash short most months, every choice feels heavier."
    assert re.search(r"describes cash_state as 'short'", failed(judged(report, submission))["consistency"])


def test_a_report_written_for_the_other_version_is_not_released() -> None:
    v1_report = OfflineWriter().write(Submission.of("Mira", dict(SAMPLE_ANSWERS))).content

    result = judged(v1_report, second())

    assert not result.released
    assert "no section for the area 'body'" in failed(result)["completeness"]


def test_a_stored_submission_keeps_the_version_it_was_answered_with() -> None:
    registry = questionnaires()
    stored = Submission.of("Ada", dict(SAMPLE_ANSWERS), registry.version("2026-11-v1"))

    report = OfflineWriter().write(stored).content

    assert registry.current().version != stored.questionnaire.version
    assert [s["area"] for s in report["sections"]][:3] == ["work", "health", "relationships"]
    assert judged(report, stored).released
