"""The validator against the labelled corpus: bad reports are held, good ones released.

Run with `-s` to see the rates; they are also in the failure message.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from reckoning.validation import LAYERS, LayerResult, ValidationResult
from tests.unit.validation.corpus import Fixture, fixtures, submission_body

MIN_DETECTION = 0.95
MAX_FALSE_POSITIVES = 0.05

GOOD = [f for f in fixtures() if f.label == "good"]
BAD = [f for f in fixtures() if f.label == "bad"]


def test_the_corpus_is_large_varied_and_labelled() -> None:
    assert len(fixtures()) >= 40
    assert len(GOOD) >= 8
    per_layer: defaultdict[str | None, int] = defaultdict(int)
    for fixture in BAD:
        assert fixture.layer in LAYERS, fixture.name
        per_layer[fixture.layer] += 1
    assert {layer: per_layer[layer] >= 3 for layer in LAYERS} == dict.fromkeys(LAYERS, True)
    names = {submission_body(f.submission).get("name") for f in GOOD}
    assert {"Zoë", "Δημήτρης", "Ольга", None} <= names


def test_detection_and_false_positive_rates() -> None:
    held = {f.name for f in fixtures() if not f.judge().released}
    detection = sum(f.name in held for f in BAD) / len(BAD)
    false_positives = sum(f.name in held for f in GOOD) / len(GOOD)
    lines = [f"corpus: {len(BAD)} bad, {len(GOOD)} good"]
    lines.append(f"detection rate {detection:.1%} (bad held), false-positive rate {false_positives:.1%} (good held)")
    for layer in LAYERS:
        mine = [f for f in BAD if f.layer == layer]
        caught = [f for f in mine if f.name in held and not _layer(f, layer).passed]
        lines.append(f"  {layer:<13} {len(caught)}/{len(mine)} caught by their layer")
    report = "\n".join(lines)
    print(report)
    assert detection >= MIN_DETECTION, report
    assert false_positives <= MAX_FALSE_POSITIVES, report


@pytest.mark.parametrize("fixture", BAD, ids=lambda f: f.name)
def test_each_bad_report_is_held_and_its_layer_says_why(fixture: Fixture) -> None:
    result = fixture.judge()
    assert fixture.layer is not None
    caught_by = _layer(fixture, fixture.layer, result)
    assert not result.released
    assert not caught_by.passed, f"{fixture.layer} missed it: {fixture.description}"
    assert caught_by.reason in result.feedback()


@pytest.mark.parametrize("fixture", GOOD, ids=lambda f: f.name)
def test_each_good_report_passes_every_layer(fixture: Fixture) -> None:
    result = fixture.judge()
    assert [(r.layer, r.reason) for r in result.layers if not r.passed] == []
    assert result.released
    assert result.confidence >= 0.95


def _layer(fixture: Fixture, layer: str, result: ValidationResult | None = None) -> LayerResult:
    judged = result or fixture.judge()
    return next(r for r in judged.layers if r.layer == layer)
