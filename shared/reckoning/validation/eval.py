"""`reckoning eval DIR`: the gate over a labelled corpus — detection and false positives, per category.

A corpus is `DIR/submissions/<person>.json` (the POST /api/reckoning body: `{email, name?, consent,
answers}`) and `DIR/reports/*.json`, each `{label: good|bad, category, kind: certain|judgement, location,
description, submission, stopReason, report}`. A bad report is *detected* when the gate does not release
it; a good one held back is a *false positive*. Figures are printed per defect category and per kind, with
each miss and each false block and the gate's reason; with a priced judge, its tokens too.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reckoning.models.submission import Submission
from reckoning.ports import Judge
from reckoning.validation.engine import DEFAULT_THRESHOLD, validate
from reckoning.validation.result import GenerationMeta, ValidationResult

CERTAIN, JUDGEMENT = "certain", "judgement"


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    label: str  # good | bad
    category: str | None
    kind: str | None  # certain | judgement (bad reports)
    location: str | None
    description: str
    submission: Submission
    stop_reason: str | None
    report: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    case: Case
    released: bool
    reasons: tuple[str, ...]
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def right(self) -> bool:
        return self.released == (self.case.label == "good")


@dataclass(frozen=True, slots=True)
class Rate:
    hit: int
    of: int

    @property
    def rate(self) -> float:
        return self.hit / self.of if self.of else 1.0

    def as_json(self) -> dict[str, Any]:
        return {"hit": self.hit, "of": self.of, "rate": round(self.rate, 4)}


@dataclass(frozen=True, slots=True)
class EvalReport:
    outcomes: tuple[Outcome, ...]
    judge_model: str
    per_category: dict[str, Rate] = field(default_factory=dict)
    per_kind: dict[str, Rate] = field(default_factory=dict)

    @property
    def detection(self) -> Rate:
        bad = [o for o in self.outcomes if o.case.label == "bad"]
        return Rate(sum(not o.released for o in bad), len(bad))

    @property
    def false_positives(self) -> Rate:
        good = [o for o in self.outcomes if o.case.label == "good"]
        return Rate(sum(not o.released for o in good), len(good))

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.label == "bad" and o.released]

    @property
    def false_blocks(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.label == "good" and not o.released]

    def as_json(self) -> dict[str, Any]:
        return {
            "judge": self.judge_model,
            "reports": len(self.outcomes),
            "detection": self.detection.as_json(),
            "falsePositives": self.false_positives.as_json(),
            "perKind": {k: r.as_json() for k, r in self.per_kind.items()},
            "perCategory": {k: r.as_json() for k, r in self.per_category.items()},
            "misses": [_entry(o) for o in self.misses],
            "falseBlocks": [_entry(o) for o in self.false_blocks],
            "judgeTokens": {
                "input": sum(o.input_tokens for o in self.outcomes),
                "output": sum(o.output_tokens for o in self.outcomes),
            },
        }

    def table(self) -> str:
        rows = [f"judge: {self.judge_model}; {len(self.outcomes)} reports", "", f"{'category':<22} {'detected':>9}"]
        rows += [f"{name:<22} {r.hit:>4}/{r.of:<4} {r.rate:>6.0%}" for name, r in self.per_category.items()]
        rows.append("")
        rows += [f"{'kind ' + name:<22} {r.hit:>4}/{r.of:<4} {r.rate:>6.0%}" for name, r in self.per_kind.items()]
        d, fp = self.detection, self.false_positives
        rows.append(f"{'overall detection':<22} {d.hit:>4}/{d.of:<4} {d.rate:>6.0%}")
        rows.append(f"{'false positives':<22} {fp.hit:>4}/{fp.of:<4} {fp.rate:>6.0%}  (good reports held back)")
        tokens_in, tokens_out = sum(o.input_tokens for o in self.outcomes), sum(o.output_tokens for o in self.outcomes)
        if tokens_in or tokens_out:
            per = len(self.outcomes) or 1
            rows.append(
                f"judge tokens: {tokens_in} in, {tokens_out} out ({tokens_in // per} / {tokens_out // per} a report)"
            )
        rows += ["", "misses (bad reports released):", *([_line(o) for o in self.misses] or ["  none"])]
        rows += ["", "false blocks (good reports held back):", *([_line(o) for o in self.false_blocks] or ["  none"])]
        return "\n".join(rows)


def load(corpus: Path) -> list[Case]:
    """Every labelled report of a corpus, with the submission it was written for."""
    cases = []
    for path in sorted((corpus / "reports").glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        body = json.loads((corpus / "submissions" / f"{raw['submission']}.json").read_text(encoding="utf-8"))
        name = body.get("name")
        cases.append(
            Case(
                name=path.stem,
                label=raw["label"],
                category=raw.get("category") or raw.get("layer"),
                kind=raw.get("kind"),
                location=raw.get("location"),
                description=raw.get("description", ""),
                submission=Submission.of(name.strip() or None if isinstance(name, str) else None, body["answers"]),
                stop_reason=raw.get("stopReason"),
                report=raw["report"],
            )
        )
    return cases


def run_case(case: Case, judge: Judge | None, threshold: float = DEFAULT_THRESHOLD) -> Outcome:
    result = validate(
        case.report, case.submission, GenerationMeta(stop_reason=case.stop_reason), threshold, judge=judge
    )
    return Outcome(case, result.released, tuple(_reasons(result)), *_tokens(result))


def evaluate(corpus: Path, judge: Judge | None = None, threshold: float = DEFAULT_THRESHOLD) -> EvalReport:
    outcomes = tuple(run_case(case, judge, threshold) for case in load(corpus))
    per_category: defaultdict[str, list[bool]] = defaultdict(list)
    per_kind: defaultdict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        if o.case.label == "bad":
            per_category[o.case.category or "unlabelled"].append(not o.released)
            per_kind[o.case.kind or "unlabelled"].append(not o.released)
    return EvalReport(
        outcomes=outcomes,
        judge_model=judge.model if judge else "heuristic-judge",
        per_category={k: Rate(sum(v), len(v)) for k, v in sorted(per_category.items())},
        per_kind={k: Rate(sum(v), len(v)) for k, v in sorted(per_kind.items())},
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("corpus", type=Path, metavar="DIR", help="a corpus with reports/ and submissions/")
    parser.add_argument("--json", action="store_true", dest="as_json", help="print the figures as JSON")
    parser.add_argument("--min-detection", type=float, default=0.0, help="fail below this overall detection")
    parser.add_argument("--min-certain-detection", type=float, default=0.0, help="fail below this for certain defects")
    parser.add_argument("--max-false-positives", type=float, default=1.0, help="fail above this false-positive rate")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="the gate's confidence threshold")


def run(args: argparse.Namespace, report: EvalReport) -> int:
    """Print the report (a table, or JSON) and say whether it meets the bars the arguments set."""
    print(json.dumps(report.as_json(), ensure_ascii=False, indent=2) if args.as_json else report.table())
    certain = report.per_kind.get(CERTAIN, Rate(0, 0))
    failures = []
    if report.detection.rate < args.min_detection:
        failures.append(f"detection {report.detection.rate:.1%} < {args.min_detection:.1%}")
    if certain.rate < args.min_certain_detection:
        failures.append(f"certain detection {certain.rate:.1%} < {args.min_certain_detection:.1%}")
    if report.false_positives.rate > args.max_false_positives:
        failures.append(f"false positives {report.false_positives.rate:.1%} > {args.max_false_positives:.1%}")
    for failure in failures:
        print(f"reckoning eval: bar not met: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _reasons(result: ValidationResult) -> list[str]:
    blocking = [f"{layer.layer}: {layer.reason}" for layer in result.layers if layer.blocking]
    return blocking or [f"confidence {result.confidence:.2f} < {result.threshold:.2f}"] if not result.released else []


def _tokens(result: ValidationResult) -> tuple[int, int]:
    verdict = result.verdict
    return (verdict.input_tokens or 0, verdict.output_tokens or 0) if verdict else (0, 0)


def _line(o: Outcome) -> str:
    what = f"{o.case.category} ({o.case.kind}, {o.case.location})" if o.case.label == "bad" else "good"
    why = "; ".join(o.reasons) if o.reasons else "released"
    return f"  {o.case.name}: {what}: {o.case.description}\n      gate: {why}"


def _entry(o: Outcome) -> dict[str, Any]:
    return {
        "report": o.case.name,
        "category": o.case.category,
        "kind": o.case.kind,
        "location": o.case.location,
        "description": o.case.description,
        "reasons": list(o.reasons),
    }
