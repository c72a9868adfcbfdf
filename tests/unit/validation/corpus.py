"""The labelled report corpus under tests/corpus/: loading fixtures and building judged inputs.

Two parts: the tuning part (reports/, submissions/), which the layers are developed against, and the held-out
part (held_out/), written before the layers were widened for it and never used to tune them: its figures say
how far the validator generalises.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from reckoning.models.submission import Submission
from reckoning.questionnaires import Questionnaires
from reckoning.validation import GenerationMeta, ValidationResult, validate

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
REPORTS = CORPUS / "reports"
SUBMISSIONS = CORPUS / "submissions"
HELD_OUT = CORPUS / "held_out"
# The blind gate corpus (issue 17): its tuning split, copied here; RECKONING_GATE_CORPUS points elsewhere.
GATE_CORPUS = Path(os.environ.get("RECKONING_GATE_CORPUS") or CORPUS / "gate" / "tuning")
# A test-only registry: the product's 2026-11-v1 (linked) and 2027-01-v2 (other ids, areas and focus question), current.
SECOND_EDITION = "2027-01-v2"
SECOND_EDITION_ANSWERS: dict[str, Any] = {
    "satisfaction": 5,
    "in_a_line": "Good job, bad sleep, and a cello gathering dust in the hall.",
    "what_to_face": ["body", "craft", "kin"],
    "craft_score": 2,
    "sleep": 5,
    "cash_state": "fine",
    "hardest_thing": "Asking the workshop foreman for the apprenticeship in joinery. I rehearse it every Monday.",
    "people": "My brother Tobias and I only talk at birthdays now, and I miss the long walks we used to take.",
}


def questionnaires() -> Questionnaires:
    """A fresh registry over tests/corpus/questionnaires (its own cache, so tests do not share state)."""
    return Questionnaires(CORPUS / "questionnaires")


@dataclass(frozen=True)
class Fixture:
    name: str
    label: Literal["good", "bad"]
    layer: str | None  # the layer that must catch a bad report
    description: str
    submission: str
    stop_reason: str | None
    report: dict[str, Any]
    submissions: Path = SUBMISSIONS

    def judge(self) -> ValidationResult:
        body = submission_body(self.submission, self.submissions)
        who = Submission.of(body.get("name"), body["answers"])
        return validate(self.report, who, GenerationMeta(stop_reason=self.stop_reason))


@cache
def fixtures() -> tuple[Fixture, ...]:
    """The tuning part."""
    return tuple(_fixture(path, SUBMISSIONS) for path in sorted(REPORTS.glob("*.json")))


@cache
def held_out() -> tuple[Fixture, ...]:
    """The held-out part: measured, never tuned against."""
    return tuple(_fixture(path, HELD_OUT / "submissions") for path in sorted((HELD_OUT / "reports").glob("*.json")))


def _fixture(path: Path, submissions: Path) -> Fixture:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Fixture(
        submissions=submissions,
        name=path.stem,
        label=raw["label"],
        layer=raw["layer"],
        description=raw["description"],
        submission=raw["submission"],
        stop_reason=raw["stopReason"],
        report=raw["report"],
    )


def submission_body(name: str, folder: Path = SUBMISSIONS) -> dict[str, Any]:
    """The POST /api/reckoning body a fixture is judged against."""
    body: dict[str, Any] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return body


def person(name: str) -> Submission:
    body = submission_body(name)
    return Submission.of(body.get("name"), body["answers"])


def good_report(name: str) -> dict[str, Any]:
    """A fresh, mutable copy of the good report written for `name`."""
    fixture = next(f for f in fixtures() if f.name == f"good-{name}")
    return copy.deepcopy(fixture.report)
