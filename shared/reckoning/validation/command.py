"""`reckoning validate REPORT.json SUBMISSION.json` — judge a report with the ten layers, as the worker does.

Exit status: 0 released, 1 not released, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from reckoning.models.submission import Submission
from reckoning.questionnaires import served
from reckoning.validation.engine import DEFAULT_THRESHOLD, LAYERS, validate
from reckoning.validation.result import GenerationMeta, ValidationResult

RELEASED, HELD, UNREADABLE = 0, 1, 2


class UnreadableInput(Exception):
    """An input file that cannot be used; the message is the one line shown to the operator."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="judge a report JSON against a submission with the ten validation layers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("report", type=Path, metavar="REPORT.json", help="the report as the model produced it")
    parser.add_argument("submission", type=Path, metavar="SUBMISSION.json", help="the body of POST /api/reckoning")
    parser.add_argument("--stop-reason", default="end_turn", help="the model's stop reason (default: end_turn)")
    parser.add_argument(
        "--threshold", type=float, default=DEFAULT_THRESHOLD, help=f"confidence needed (default: {DEFAULT_THRESHOLD})"
    )
    parser.add_argument("--json", action="store_true", dest="as_json", help="print the result as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        report = _read_object(args.report, "report")
        submission = submission_of(_read_object(args.submission, "submission"))
    except UnreadableInput as exc:
        print(f"reckoning validate: {exc}", file=sys.stderr)
        return UNREADABLE
    result = validate(report, submission, GenerationMeta(stop_reason=args.stop_reason), threshold=args.threshold)
    print(json.dumps(result.as_json(), ensure_ascii=False, indent=2) if args.as_json else render(result))
    return RELEASED if result.released else HELD


def submission_of(body: dict[str, Any]) -> Submission:
    """The person as the validator sees them, from a POST /api/reckoning body (and its `questionnaireVersion`)."""
    answers, name, version = body.get("answers"), body.get("name"), body.get("questionnaireVersion")
    if not isinstance(answers, dict):
        raise UnreadableInput("the submission has no 'answers' object")
    if name is not None and not isinstance(name, str):
        raise UnreadableInput("the submission's 'name' is not a string")
    questionnaires = served()
    if version is not None and (not isinstance(version, str) or version not in questionnaires.versions()):
        raise UnreadableInput(
            f"the submission's questionnaireVersion is not one of {', '.join(questionnaires.versions())}"
        )
    questionnaire = questionnaires.version(version) if version else None
    return Submission.of((name or "").strip() or None, answers, questionnaire)


def render(result: ValidationResult) -> str:
    """A plain table: one row per layer, then the verdict."""
    rows = [f"{'layer':<13} {'weight':>6} {'score':>5}  {'result':<6} {'blocks':<6} {'decided':<8} reason"]
    for layer in result.layers:
        rows.append(
            f"{layer.layer:<13} {LAYERS[layer.layer][1]:>6.2f} {layer.score:>5.2f}  "
            f"{'pass' if layer.passed else 'FAIL':<6} {'yes' if layer.blocking else '':<6} {layer.decided:<8} "
            f"{layer.reason}"
        )
    if result.verdict:
        judged = result.verdict
        rows.append(f"\njudge {judged.model}: {len(judged.findings)} finding(s), {judged.dropped_quotes} dropped")
        rows += [f"  {f.category}: \u201c{f.quote}\u201d — {f.reason}" for f in judged.findings]
    verdict = "released" if result.released else "not released"
    rows.append(f"\nconfidence {result.confidence:.2f} (threshold {result.threshold:.2f}): {verdict}")
    return "\n".join(rows)


def _read_object(path: Path, what: str) -> dict[str, Any]:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableInput(f"cannot read the {what} file {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UnreadableInput(
            f"the {what} file {path} is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from exc
    if not isinstance(value, dict):
        raise UnreadableInput(f"the {what} file {path} does not hold a JSON object")
    return value
