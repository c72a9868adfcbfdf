"""The verdict over the layers: weights, confidence, release rule, feedback and stored JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reckoning.models.submission import Submission
from reckoning.validation import DEFAULT_THRESHOLD, LAYERS, GenerationMeta, LayerResult, ValidationResult, validate
from reckoning.validation.facts import Facts, facts_of
from reckoning.validation.view import ReportView
from tests.unit.validation.corpus import good_report, person


def layer(name: str, score: float, *, passed: bool = True, blocking: bool = False, reason: str = "ok") -> LayerResult:
    return LayerResult(layer=name, score=score, passed=passed, blocking=blocking, reason=reason)


def test_ten_layers_whose_weights_sum_to_one() -> None:
    assert list(LAYERS) == [
        "structure", "completeness", "length", "grounding", "consistency",
        "placeholders", "safety", "privacy", "readability", "repetition",
    ]  # fmt: skip
    assert sum(weight for _, weight in LAYERS.values()) == pytest.approx(1.0)


def test_confidence_is_the_weighted_score() -> None:
    report = good_report("ada")
    report["sections"][1]["body"] = "Too short to say much about energy."  # length fails softly
    result = validate(report, person("ada"), GenerationMeta())
    expected = sum(r.score * LAYERS[r.layer][1] for r in result.layers)
    assert result.confidence == pytest.approx(expected, abs=1e-4)
    assert 0.0 < result.confidence < 1.0


def test_released_needs_the_threshold_and_no_blocking_failure() -> None:
    fine = (layer("structure", 1.0), layer("length", 0.6, passed=False))
    blocked = (layer("structure", 1.0), layer("safety", 0.0, passed=False, blocking=True))
    assert ValidationResult(fine, confidence=0.85, threshold=0.8).released
    assert not ValidationResult(fine, confidence=0.79, threshold=0.8).released
    assert not ValidationResult(blocked, confidence=0.95, threshold=0.8).released


def test_the_threshold_is_a_parameter_with_a_default() -> None:
    report = good_report("ada")
    assert validate(report, person("ada"), GenerationMeta()).threshold == DEFAULT_THRESHOLD == 0.8
    assert validate(report, person("ada"), GenerationMeta(), threshold=0.5).threshold == 0.5


def test_one_run_reads_the_report_and_the_answers_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    view_of = ReportView.of

    def counting_view(report: object) -> ReportView:
        calls.append("view")
        return view_of(report)

    def counting_facts(submission: Submission) -> Facts:
        calls.append("facts")
        return facts_of(submission)

    monkeypatch.setattr(ReportView, "of", counting_view)
    monkeypatch.setattr("reckoning.validation.subject.facts_of", counting_facts)

    result = validate(good_report("ada"), person("ada"), GenerationMeta())

    assert len(result.layers) == len(LAYERS)
    assert sorted(calls) == ["facts", "view"]


def test_feedback_lists_failed_reasons_blocking_first() -> None:
    layers = (
        layer("structure", 1.0, reason="fine"),
        layer("readability", 0.6, passed=False, reason="sentences are long"),
        layer("safety", 0.0, passed=False, blocking=True, reason="gives a medical directive"),
    )
    assert ValidationResult(layers, 0.7, 0.8).feedback() == ["gives a medical directive", "sentences are long"]


def test_as_json_is_plain_json_with_the_verdict() -> None:
    result = validate(good_report("ada"), person("ada"), GenerationMeta(stop_reason="max_tokens"))
    stored = json.loads(json.dumps(result.as_json()))
    assert stored["released"] is False
    assert stored["threshold"] == result.threshold
    assert stored["confidence"] == result.confidence
    assert stored["layers"][2] == {
        "layer": "length",
        "score": 0.0,
        "passed": False,
        "blocking": True,
        "reason": "generation hit the token limit, so the report is cut off; write it more compactly",
        "decided": "certain",
        "suspected": [],
    }
    assert stored["judge"] is None  # a certain block: no judge is paid for


def test_reasons_fed_back_to_the_model_never_carry_the_persons_words() -> None:
    report = good_report("ada")
    report["summary"] = "Dear Maria, " + report["summary"]
    report["closing"] += " Write to Priya at priya.sharma@example.com."
    feedback = " ".join(validate(report, person("ada"), GenerationMeta()).feedback())
    assert "Maria" not in feedback and "priya" not in feedback.casefold()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=200),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)
_report_like = st.fixed_dictionaries(
    {},
    optional={
        "title": _json,
        "summary": _json | st.text(max_size=400),
        "sections": st.lists(st.dictionaries(st.sampled_from(["area", "heading", "body"]), _json), max_size=4),
        "nextSteps": st.lists(st.dictionaries(st.sampled_from(["action", "why", "horizon"]), _json), max_size=8),
        "closing": _json,
    },
)


@settings(max_examples=150, deadline=None)
@given(report=_report_like | st.dictionaries(st.text(max_size=12), _json, max_size=6))
def test_any_json_object_is_judged_without_crashing(report: dict[str, Any]) -> None:
    result = validate(report, person("ada"), GenerationMeta())
    assert 0.0 <= result.confidence <= 1.0
    assert len(result.layers) == len(LAYERS)


def test_a_possessive_is_the_same_name() -> None:
    from reckoning.validation.text import fold_name

    assert fold_name("Zoë's") == fold_name("Zoe") == fold_name("ZOË\u2019S")
