"""The weights table and `validate`: run every layer, call the judge unless a rule already blocks, decide."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reckoning.models.judgement import CATEGORY_LAYER, Verdict, verified
from reckoning.models.submission import Submission
from reckoning.ports import Judge
from reckoning.validation.layers import (
    completeness,
    consistency,
    grounding,
    length,
    placeholders,
    privacy,
    readability,
    repetition,
    safety,
    structure,
)
from reckoning.validation.result import Finding, GenerationMeta, LayerResult, ValidationResult, outcome
from reckoning.validation.subject import Subject

type Layer = Callable[[Subject], LayerResult]

DEFAULT_THRESHOLD = 0.8

# Layer name -> (check, weight). The weights sum to 1: what the person would miss most weighs most.
LAYERS: dict[str, tuple[Layer, float]] = {
    structure.LAYER: (structure.check, 0.14),
    completeness.LAYER: (completeness.check, 0.12),
    length.LAYER: (length.check, 0.08),
    grounding.LAYER: (grounding.check, 0.16),
    consistency.LAYER: (consistency.check, 0.12),
    placeholders.LAYER: (placeholders.check, 0.08),
    safety.LAYER: (safety.check, 0.10),
    privacy.LAYER: (privacy.check, 0.08),
    readability.LAYER: (readability.check, 0.06),
    repetition.LAYER: (repetition.check, 0.06),
}
JUDGED_LAYERS = frozenset(CATEGORY_LAYER.values())


def validate(
    report: Mapping[str, Any],
    submission: Submission,
    meta: GenerationMeta,
    threshold: float = DEFAULT_THRESHOLD,
    judge: Judge | None = None,
) -> ValidationResult:
    """Judge a raw model report (schema-valid or not) against the person's submission.

    The rules run first; a certain block ends it there (no judge is paid for a draft that cannot be sent).
    Otherwise the judge (the offline `HeuristicJudge` when none is given) rules on the judgement categories,
    with the rules' suspicions as leads; its findings whose quote is not in the draft are dropped.
    """
    subject = Subject.of(report, submission, meta)  # built once: every layer reads the same view and facts
    ruled = tuple(check(subject) for check, _ in LAYERS.values())
    if any(layer.blocking for layer in ruled):
        unjudged = tuple(_unjudged(layer) for layer in ruled)
        return _result(unjudged, threshold, None)
    if judge is None:
        from reckoning.validation.heuristic_judge import HeuristicJudge

        judge = HeuristicJudge()
    suspicions = tuple(s for layer in ruled for s in layer.suspicions)
    verdict = verified(judge.judge(submission, report, suspicions), subject.view.full_text())
    return _result(tuple(settle(layer, verdict) for layer in ruled), threshold, verdict)


def settle(layer: LayerResult, verdict: Verdict) -> LayerResult:
    """A judged layer with its suspicions replaced by the judge's findings for its categories."""
    if layer.layer not in JUDGED_LAYERS:
        return layer
    kept = [f for f in layer.findings if f.kind != "suspicion"]
    judged = [
        Finding(1.0, f"{finding.category}: {finding.reason}", kind="judged", category=finding.category)
        for finding in verdict.findings
        if CATEGORY_LAYER[finding.category] == layer.layer
    ]
    ok = f"the judge found no problem ({', '.join(c for c, name in CATEGORY_LAYER.items() if name == layer.layer)})"
    return outcome(layer.layer, kept + judged, ok=ok, decided="judged")


def _unjudged(layer: LayerResult) -> LayerResult:
    if layer.layer not in JUDGED_LAYERS or layer.blocking:
        return layer
    return LayerResult(layer.layer, layer.score, layer.passed, layer.blocking, layer.reason, "unjudged", layer.findings)


def _result(layers: tuple[LayerResult, ...], threshold: float, verdict: Verdict | None) -> ValidationResult:
    confidence = sum(layer.score * LAYERS[layer.layer][1] for layer in layers)
    return ValidationResult(
        layers=layers, confidence=round(min(1.0, max(0.0, confidence)), 4), threshold=threshold, verdict=verdict
    )
