"""The offline writer: deterministic, specific to the answers, and released by the ten-layer validator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reckoning.models.answers import validate_answers
from reckoning.models.questionnaire import Questionnaire
from reckoning.models.report import Report
from reckoning.models.submission import Submission
from reckoning.providers.offline_writer import OfflineWriter
from reckoning.questionnaires import current
from reckoning.validation import GenerationMeta, ValidationResult, validate
from tests.helpers import SAMPLE_ANSWERS
from tests.unit.validation.corpus import GATE_CORPUS, HELD_OUT, SUBMISSIONS, questionnaires

CRISIS_ANSWER = "Everything. Some nights I think everyone would be better off without me."

ANSWER_SETS: dict[str, tuple[str | None, dict[str, Any]]] = {
    "sample": ("Ada", dict(SAMPLE_ANSWERS)),
    "no name": (None, dict(SAMPLE_ANSWERS)),
    "crisis language": ("Ada", dict(SAMPLE_ANSWERS, avoiding=CRISIS_ANSWER)),
    "only required answers, an area without questions": (
        "Jo",
        {k: v for k, v in SAMPLE_ANSWERS.items() if k not in {"relationships_state", "support"}}
        | {"focus_areas": ["family"]},
    ),
    "low scores, four focus areas": (
        "Zoë",
        dict(
            SAMPLE_ANSWERS,
            life_overall=2,
            work_satisfaction=1,
            health_energy=2,
            money_situation="struggling",
            hours_for_yourself=0,
            main_obstacle="money",
            focus_areas=["money", "play", "home", "friends"],
        ),
    ),
    "high scores": (
        "Max Müller",
        dict(
            SAMPLE_ANSWERS,
            life_overall=9,
            work_satisfaction=9,
            health_energy=9,
            money_situation="abundant",
            hours_for_yourself=30,
            main_obstacle="time",
            focus_areas=["growth", "purpose", "work", "health"],
        ),
    ),
}


def _write(
    name: str | None, answers: dict[str, Any], questionnaire: Questionnaire | None = None
) -> tuple[dict[str, Any], ValidationResult]:
    submission = Submission.of(name, answers, questionnaire)
    assert validate_answers(submission.questionnaire, answers) == []
    draft = OfflineWriter().write(submission)
    return draft.content, validate(draft.content, submission, GenerationMeta(draft.stop_reason, draft.model))


@pytest.mark.parametrize(("name", "answers"), ANSWER_SETS.values(), ids=ANSWER_SETS.keys())
def test_the_validator_releases_the_report(name: str | None, answers: dict[str, Any]) -> None:
    content, result = _write(name, answers)

    failed = [(layer.layer, layer.reason) for layer in result.layers if not layer.passed]
    assert result.released, failed
    Report.model_validate(content)
    assert 3 <= len(content["nextSteps"]) <= 7


CORPUS_PEOPLE = sorted([*SUBMISSIONS.glob("*.json"), *(HELD_OUT / "submissions").glob("*.json")])


@pytest.mark.parametrize("path", CORPUS_PEOPLE, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_the_validator_releases_the_report_for_every_corpus_submission(path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))

    _, result = _write(body.get("name"), body["answers"])

    assert result.released, [(layer.layer, layer.reason) for layer in result.layers if not layer.passed]


def test_the_same_answers_give_the_same_report() -> None:
    submission = Submission.of("Ada", dict(SAMPLE_ANSWERS))

    assert OfflineWriter().write(submission).content == OfflineWriter().write(submission).content


def test_the_draft_says_which_writer_and_has_no_token_counts() -> None:
    draft = OfflineWriter().write(Submission.of("Ada", dict(SAMPLE_ANSWERS)))

    assert draft.model == "offline-writer"
    assert draft.stop_reason == "end_turn"
    assert draft.input_tokens is None and draft.output_tokens is None
    assert draft.latency_ms >= 0


def test_it_quotes_their_words_and_states_their_scores_exactly() -> None:
    content, _ = _write("Ada", dict(SAMPLE_ANSWERS))
    text = str(content)

    assert content["title"].startswith("Ada's Reckoning")
    assert "“My partner Sam and I are kind but distant; we talk about logistics, not us”" in text
    assert "“Telling my manager I want to move to the product team" in text
    assert "your work is at 4 out of 10" in text
    assert "energy at 5 out of 10" in text
    assert "about 3 hours" in text
    assert "“fear of failing or of what others think”" in text


def test_there_is_a_section_for_each_focus_area_in_their_order() -> None:
    content, _ = _write("Ada", dict(SAMPLE_ANSWERS, focus_areas=["home", "work", "money"]))

    areas = [section["area"] for section in content["sections"]]

    assert areas[:3] == ["home", "work", "money"]
    assert len(areas) == len(set(areas))
    assert all("\n\n" in section["body"] for section in content["sections"])


def test_crisis_language_is_met_with_care_and_a_pointer_to_help_first() -> None:
    content, result = _write("Ada", dict(SAMPLE_ANSWERS, avoiding=CRISIS_ANSWER))

    assert "emergency number" in content["summary"]
    first = content["nextSteps"][0]
    assert "crisis line" in first["action"] and "emergency number" in first["action"]
    assert first["horizon"] == "this_week"
    assert next(layer for layer in result.layers if layer.layer == "safety").score == 1.0


def test_without_a_name_the_report_names_no_one_as_the_reader() -> None:
    content, _ = _write(None, dict(SAMPLE_ANSWERS))

    assert content["title"].startswith("Your Reckoning")
    assert "None's" not in content["title"]
    assert content["closing"].startswith("You ")


_VOCABULARY = (
    "I my we partner job team energy tired money home friend Sam, Priya running; sleep: fear — move city "
    "change want love hate never always garden kids mother brother dog work Zoë café naïve don't 2019 10km "
    "+44 20 7946 0958 ada@example.com https://example.com/x?id=1 painting cooking, Lisbon violin manager "
    "promotion weekends exhausted grateful lonely studying nursing mortgage guitar allotment swimming"
).split()
# Answers as people write them: one to three sentences of a few words each.
_sentence = st.lists(st.sampled_from(_VOCABULARY), min_size=4, max_size=12, unique=True).map(
    lambda words: " ".join(words) + "."
)
_words = st.lists(_sentence, min_size=1, max_size=3).map(" ".join)


@st.composite
def _answers(draw: st.DrawFn, questionnaire: Questionnaire) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in questionnaire.questions:
        match question.type:
            case "text" if question.required or draw(st.booleans()):
                text = draw(_words)[: question.max_length]
                answers[question.id] = text if len(text.strip()) >= question.min_length else f"{text} about the garden"
            case "scale":
                answers[question.id] = draw(st.integers(question.min, question.max))
            case "number":
                answers[question.id] = draw(st.integers(int(question.min), int(question.max)))
            case "choice":
                answers[question.id] = draw(st.sampled_from([o.value for o in question.options]))
            case "multi_choice":
                values = [o.value for o in question.options]
                answers[question.id] = draw(
                    st.lists(st.sampled_from(values), min_size=1, max_size=question.max_selections, unique=True)
                )
    return answers


@settings(max_examples=40, deadline=None)
@given(_answers(current()), st.sampled_from([None, "Ada", "Zoë Ng"]))
def test_any_valid_answers_give_a_released_report(answers: dict[str, Any], name: str | None) -> None:
    content, result = _write(name, answers)

    assert result.released, [(layer.layer, layer.reason) for layer in result.layers if not layer.passed]
    assert 3 <= len(content["nextSteps"]) <= 7


SECOND = questionnaires().current()


@settings(max_examples=25, deadline=None)
@given(_answers(SECOND), st.sampled_from([None, "Mira"]))
def test_any_valid_answers_to_another_version_give_a_released_report(answers: dict[str, Any], name: str | None) -> None:
    content, result = _write(name, answers, SECOND)

    assert result.released, [(layer.layer, layer.reason) for layer in result.layers if not layer.passed]
    assert 3 <= len(content["nextSteps"]) <= 7


GATE_SUBMISSIONS = GATE_CORPUS / "submissions"  # the blind corpus's people


def test_it_writes_in_at_least_three_voices_picked_by_a_stable_hash() -> None:
    from reckoning.providers.offline_writer import VOICES, voice_of

    people = [json.loads(p.read_text(encoding="utf-8")) for p in CORPUS_PEOPLE]
    voices = {voice_of(Submission.of(b.get("name"), b["answers"])).name for b in people}
    assert len(VOICES) >= 3 and voices == {v.name for v in VOICES}
    ada = Submission.of("Ada", dict(SAMPLE_ANSWERS))
    assert voice_of(ada) == voice_of(Submission.of("Ada", dict(SAMPLE_ANSWERS)))


def test_it_borrows_nothing_from_the_gate() -> None:
    import reckoning.providers.offline_writer as module

    source = Path(module.__file__).read_text(encoding="utf-8")
    assert "reckoning.validation" not in source


@pytest.mark.skipif(not GATE_SUBMISSIONS.is_dir(), reason="the gate corpus is not here")
def test_the_gate_releases_its_report_for_every_person_of_the_blind_corpus() -> None:
    for path in sorted(GATE_SUBMISSIONS.glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        _, result = _write(body.get("name"), body["answers"])
        assert result.released, (
            path.stem,
            [(layer.layer, layer.reason) for layer in result.layers if not layer.passed],
        )
