"""The validator against the labelled corpus: bad reports are held, good ones released.

The tuning part must be judged right fixture by fixture. The held-out part (tests/corpus/held_out) is only
measured: it was written before the layers were widened for it, and its figures say how far they generalise.
Run with `-s` to see the rates; they are also in the failure message.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from reckoning.validation import LAYERS, LayerResult, ValidationResult
from tests.unit.validation.corpus import HELD_OUT, SUBMISSIONS, Fixture, fixtures, held_out, submission_body

MIN_DETECTION = 0.95  # on the held-out part; the tuning part must be judged right every time
MAX_FALSE_POSITIVES = 0.05
HELD_OUT_FALSE_POSITIVES = 0.15  # this older part's 8 good reports; the gate corpus holds the 5% bar

# Style, not defects, since the gate splits certain from judged (issue 17): they lower confidence, never block.
STYLE_ONLY = frozenset({"bad-readability-run-on-sentences-dimitris", "bad-readability-walls-of-text-ada",
                        "bad-length-thin-olga", "bad-structure-long-summary-zoe"})  # fmt: skip
GOOD = [f for f in fixtures() if f.label == "good"]
BAD = [f for f in fixtures() if f.label == "bad" and f.name not in STYLE_ONLY]
STYLE = [f for f in fixtures() if f.name in STYLE_ONLY]


def test_the_corpus_is_large_varied_and_labelled() -> None:
    assert len(fixtures()) >= 40
    assert len(GOOD) >= 8
    per_layer: defaultdict[str | None, int] = defaultdict(int)
    for fixture in BAD:
        assert fixture.layer in LAYERS, fixture.name
        per_layer[fixture.layer] += 1
    assert {layer: per_layer[layer] >= 3 for layer in LAYERS if layer != "readability"} == {
        layer: True for layer in LAYERS if layer != "readability"
    }
    names = {submission_body(f.submission).get("name") for f in GOOD}
    assert {"Zoë", "Δημήτρης", "Ольга", None} <= names


def test_the_held_out_part_is_other_people_in_both_labels() -> None:
    part = held_out()
    assert len(part) >= 25
    assert {f.label for f in part} == {"good", "bad"}
    assert {p.name for p in (HELD_OUT / "submissions").glob("*.json")}.isdisjoint(p.name for p in SUBMISSIONS.glob("*"))


def rates(part: tuple[Fixture, ...]) -> tuple[float, float, list[str]]:
    """Detection (bad held), false positives (good held), and the fixtures judged wrongly."""
    part = tuple(f for f in part if f.name not in STYLE_ONLY)
    held = {f.name for f in part if not f.judge().released}
    good, bad = [f for f in part if f.label == "good"], [f for f in part if f.label == "bad"]
    wrong = [f.name for f in part if (f.label == "bad") != (f.name in held)]
    return sum(f.name in held for f in bad) / len(bad), sum(f.name in held for f in good) / len(good), wrong


def test_detection_and_false_positive_rates() -> None:
    figures: dict[str, tuple[float, float]] = {}
    lines: list[str] = []
    for name, part in (("tuning", fixtures()), ("held-out", held_out())):
        detection, false_positives, wrong = rates(part)
        figures[name] = (detection, false_positives)
        bad = sum(f.label == "bad" for f in part)
        lines.append(
            f"{name}: {bad} bad, {len(part) - bad} good; detection {detection:.1%} (bad held), "
            f"false positives {false_positives:.1%} (good held); judged wrongly: {', '.join(wrong) or 'none'}"
        )
    report = "\n".join(lines + _per_layer())
    print(report)
    assert figures["tuning"] == (1.0, 0.0), report
    assert figures["held-out"][0] >= MIN_DETECTION, report
    assert figures["held-out"][1] <= HELD_OUT_FALSE_POSITIVES, report


def _per_layer() -> list[str]:
    lines = []
    for layer in LAYERS:
        mine = [f for f in BAD if f.layer == layer]
        caught = [f for f in mine if not f.judge().released and not _layer(f, layer).passed]
        lines.append(f"  tuning {layer:<13} {len(caught)}/{len(mine)} caught by their layer")
    return lines


@pytest.mark.parametrize("fixture", BAD, ids=lambda f: f.name)
def test_each_bad_report_is_held_and_its_layer_says_why(fixture: Fixture) -> None:
    result = fixture.judge()
    assert fixture.layer is not None
    caught_by = _layer(fixture, fixture.layer, result)
    assert not result.released
    assert not caught_by.passed, f"{fixture.layer} missed it: {fixture.description}"
    assert caught_by.reason in result.feedback()


@pytest.mark.parametrize("fixture", STYLE, ids=lambda f: f.name)
def test_style_lowers_confidence_and_never_blocks(fixture: Fixture) -> None:
    result = fixture.judge()
    assert not any(layer.blocking for layer in result.layers)
    assert result.confidence < 1.0


@pytest.mark.parametrize("fixture", GOOD, ids=lambda f: f.name)
def test_each_good_report_passes_every_layer(fixture: Fixture) -> None:
    result = fixture.judge()
    assert result.released, [(r.layer, r.reason) for r in result.layers if not r.passed]
    assert result.confidence >= 0.9


def _layer(fixture: Fixture, layer: str, result: ValidationResult | None = None) -> LayerResult:
    judged = result or fixture.judge()
    return next(r for r in judged.layers if r.layer == layer)
