"""What the validator returns: one result per layer, and the weighted verdict over them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class GenerationMeta:
    """How the model finished, as the Messages API reported it."""

    stop_reason: str | None = "end_turn"  # end_turn, max_tokens, refusal, tool_use, stop_sequence
    model: str = "unknown"


@dataclass(frozen=True, slots=True)
class LayerResult:
    layer: str  # stable machine name, e.g. "structure"
    score: float  # 0..1
    passed: bool
    blocking: bool  # a blocking failure forces regeneration whatever the confidence
    reason: str  # short, human, fed back to the model; never quotes personal data


@dataclass(frozen=True, slots=True)
class ValidationResult:
    layers: tuple[LayerResult, ...]
    confidence: float  # weighted score of the layers, in [0, 1]
    threshold: float

    @property
    def released(self) -> bool:
        """Good enough to send: confident enough, and nothing that must never reach a person."""
        return self.confidence >= self.threshold and not any(layer.blocking for layer in self.layers)

    def feedback(self) -> list[str]:
        """Reasons of the failed layers, blocking ones first, for the regeneration prompt."""
        failed = [layer for layer in self.layers if not layer.passed]
        return [layer.reason for layer in sorted(failed, key=lambda layer: not layer.blocking)]

    def as_json(self) -> dict[str, Any]:
        """Plain JSON for `reports.layer_results` and `reckoning validate --json`."""
        return {
            "confidence": round(self.confidence, 4),
            "threshold": self.threshold,
            "released": self.released,
            "layers": [asdict(layer) for layer in self.layers],
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a layer found: how much it costs the layer's score, and what to say about it."""

    penalty: float
    message: str


def judge(
    layer: str,
    findings: Sequence[Finding],
    *,
    ok: str,
    pass_mark: float = 0.75,
    block_below: float = 0.5,
) -> LayerResult:
    """Turn findings into a result: score = 1 - penalties; a failure scoring under `block_below` blocks.

    A finding with penalty 1 therefore always blocks; small ones only fail the layer
    once they add up, and the confidence carries the rest.
    """
    score = round(max(0.0, 1.0 - sum(f.penalty for f in findings)), 3)
    passed = score >= pass_mark
    return LayerResult(
        layer=layer,
        score=score,
        passed=passed,
        blocking=not passed and score < block_below,
        reason=_reason(findings, ok=ok, passed=passed),
    )


def _reason(findings: Sequence[Finding], *, ok: str, passed: bool) -> str:
    if not findings:
        return ok
    worst = sorted(findings, key=lambda f: -f.penalty)
    text = "; ".join(f.message for f in worst[:3])
    if len(worst) > 3:
        text += f" (and {len(worst) - 3} more)"
    return f"{ok}; minor: {text}" if passed else text
