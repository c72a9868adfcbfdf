"""The weights table and `validate`: run every layer, weigh the scores, decide on release."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reckoning.config import settings
from reckoning.models.submission import Submission
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
from reckoning.validation.result import GenerationMeta, LayerResult, ValidationResult
from reckoning.validation.subject import Subject

type Layer = Callable[[Subject], LayerResult]

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


def validate(
    report: Mapping[str, Any],
    submission: Submission,
    meta: GenerationMeta,
    threshold: float | None = None,
) -> ValidationResult:
    """Judge a raw model report (schema-valid or not) against the person's submission."""
    subject = Subject.of(report, submission, meta)  # built once: every layer reads the same view and facts
    results = tuple(check(subject) for check, _ in LAYERS.values())
    confidence = sum(result.score * LAYERS[result.layer][1] for result in results)
    return ValidationResult(
        layers=results,
        confidence=round(min(1.0, max(0.0, confidence)), 4),
        threshold=settings().confidence_threshold if threshold is None else threshold,
    )
