"""What the validator returns: one result per layer, and the weighted verdict over them.

Every finding is of one kind:
- *certain*: a rule decides it (a template token, a cut-off sentence, a stranger's phone number); it may block;
- *suspicion*: a rule suspects a judgement category (a contradiction, a directive…); it lowers confidence and
  goes to the judge with its quote, and never blocks alone;
- *style*: a preference (a short section, a long sentence); it lowers confidence a little, never blocks;
- *judged*: the judge's finding, with a quote verified against the draft; it blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reckoning.models.judgement import Category, Suspicion, Verdict

Kind = Literal["certain", "suspicion", "style", "judged"]
Decided = Literal["certain", "judged", "unjudged"]
STYLE_CAP = 0.4  # style alone never takes more than this from a layer's score, so it cannot block by confidence


@dataclass(frozen=True, slots=True)
class GenerationMeta:
    """How the model finished, as the Messages API reported it."""

    stop_reason: str | None = "end_turn"  # end_turn, max_tokens, refusal, tool_use, stop_sequence
    model: str = "unknown"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a layer found: how much it costs the layer's score, and what to say about it."""

    penalty: float
    message: str
    kind: Kind = "certain"
    category: Category | None = None  # suspicions and judged findings
    quote: str = ""  # the passage a suspicion is about, verbatim


@dataclass(frozen=True, slots=True)
class LayerResult:
    layer: str  # stable machine name, e.g. "structure"
    score: float  # 0..1
    passed: bool
    blocking: bool  # a blocking failure forces regeneration whatever the confidence
    reason: str  # short, human, fed back to the model; never quotes the report or the answers
    decided: Decided = "certain"  # by a rule, by the judge, or left unjudged (a certain block came first)
    findings: tuple[Finding, ...] = field(default=(), compare=False, repr=False)

    @property
    def suspicions(self) -> tuple[Suspicion, ...]:
        return tuple(
            Suspicion(f.category, f.quote, f.message, f.penalty)
            for f in self.findings
            if f.kind == "suspicion" and f.category is not None
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "score": self.score,
            "passed": self.passed,
            "blocking": self.blocking,
            "reason": self.reason,
            "decided": self.decided,
            "suspected": sorted({str(f.category) for f in self.findings if f.kind == "suspicion"}),
        }


@dataclass(frozen=True, slots=True)
class ValidationResult:
    layers: tuple[LayerResult, ...]
    confidence: float  # weighted score of the layers, in [0, 1]
    threshold: float
    verdict: Verdict | None = None  # the judge's, when it ran (no certain block came first)

    @property
    def released(self) -> bool:
        """Good enough to send: confident enough, and nothing that must never reach a person."""
        return self.confidence >= self.threshold and not any(layer.blocking for layer in self.layers)

    def feedback(self) -> list[str]:
        """Reasons of the failed layers, blocking ones first, then the judge's evidence, for the regeneration."""
        failed = [layer for layer in self.layers if not layer.passed]
        reasons = [layer.reason for layer in sorted(failed, key=lambda layer: not layer.blocking)]
        if self.verdict:
            reasons += [
                f"{f.category}: {f.reason} (the passage: \u201c{f.quote}\u201d)"
                + (f" (their answer: \u201c{f.answer}\u201d)" if f.answer else "")
                for f in self.verdict.findings
            ]
        return reasons

    def as_json(self) -> dict[str, Any]:
        """Plain JSON for `reports.layer_results` and `reckoning validate --json`."""
        return {
            "confidence": round(self.confidence, 4),
            "threshold": self.threshold,
            "released": self.released,
            "layers": [layer.as_json() for layer in self.layers],
            "judge": self.verdict.as_json() if self.verdict else None,
        }


def outcome(
    layer: str,
    findings: Sequence[Finding],
    *,
    ok: str,
    pass_mark: float = 0.75,
    block_below: float = 0.5,
    decided: Decided = "certain",
) -> LayerResult:
    """Turn findings into a result: score = 1 - penalties (style capped); only certain or judged findings
    scoring under `block_below` block. A certain finding with penalty 1 therefore always blocks; a suspicion
    or a style note only lowers the score, and the confidence carries it."""
    decisive = sum(f.penalty for f in findings if f.kind in ("certain", "judged"))
    style = min(STYLE_CAP, sum(f.penalty for f in findings if f.kind == "style"))
    suspected = sum(f.penalty for f in findings if f.kind == "suspicion")
    score = round(max(0.0, 1.0 - decisive - style - suspected), 3)
    hard_score = 1.0 - decisive
    passed = score >= pass_mark
    return LayerResult(
        layer=layer,
        score=score,
        passed=passed,
        blocking=hard_score < block_below,
        reason=_reason(findings, ok=ok, passed=passed),
        decided=decided,
        findings=tuple(findings),
    )


def _reason(findings: Sequence[Finding], *, ok: str, passed: bool) -> str:
    if not findings:
        return ok
    worst = sorted(findings, key=lambda f: -f.penalty)
    text = "; ".join(f.message for f in worst[:3])
    if len(worst) > 3:
        text += f" (and {len(worst) - 3} more)"
    return f"{ok}; minor: {text}" if passed else text
