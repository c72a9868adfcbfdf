"""Questionnaire versions end to end: a new version is data, and a stored reckoning keeps the version it was answered.

The registry under tests/corpus/questionnaires has the test-only 2027-01-v2 as its current version, beside the
product's 2026-11-v1; it is handed to `submit` and to the worker as a collaborator, as production hands its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from reckoning import errors
from reckoning.dependencies import Dependencies
from reckoning.domain import submit
from reckoning.models.api import SubmitRequest
from reckoning.models.job import GenerateJob
from reckoning.models.submission import Submission
from reckoning.ports import Draft
from reckoning.providers.email import OutboxMailer
from reckoning.providers.offline_writer import OfflineWriter
from tests.helpers import generate_report, invoke, submission, with_fakes
from tests.unit.validation.corpus import SECOND_EDITION, SECOND_EDITION_ANSWERS, questionnaires


class RecordingWriter:
    """The offline writer, remembering which questionnaire each submission was read against."""

    model = "recording"

    def __init__(self) -> None:
        self.versions: list[str] = []

    def write(self, sub: Submission, feedback: Any = ()) -> Draft:
        self.versions.append(sub.questionnaire.version)
        return OfflineWriter().write(sub, feedback)


@pytest.fixture
def deps(database_url: str, report_bucket: str, tmp_path: Path) -> Dependencies:
    return with_fakes(RecordingWriter(), OutboxMailer(tmp_path / "outbox"), questionnaires=questionnaires())


def pay(pg: psycopg.Connection[Any], reckoning_id: UUID) -> None:
    pg.execute("UPDATE reckonings SET status = 'paid' WHERE id = %s", (reckoning_id,))


def latest(pg: psycopg.Connection[Any]) -> dict[str, Any]:
    row = pg.execute("SELECT id, status, questionnaire_version FROM reckonings ORDER BY created_at DESC").fetchone()
    assert row is not None
    return dict(row)


def report_areas(pg: psycopg.Connection[Any], reckoning_id: UUID) -> list[str]:
    row = pg.execute("SELECT content, released FROM reports WHERE reckoning_id = %s", (reckoning_id,)).fetchone()
    assert row is not None and row["released"]
    return [section["area"] for section in row["content"]["sections"]]


def test_a_new_version_runs_from_submission_to_a_released_report(
    database_url: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    request = SubmitRequest.model_validate(submission(name="Mira", answers=SECOND_EDITION_ANSWERS))
    submit.submit(deps, request)
    stored = latest(pg)
    assert stored["questionnaire_version"] == SECOND_EDITION
    pay(pg, stored["id"])

    assert generate_report(GenerateJob(reckoning_id=stored["id"]), deps) == "ready"

    assert report_areas(pg, stored["id"]) == ["body", "craft", "kin"]
    assert isinstance(deps.writer, RecordingWriter) and deps.writer.versions == [SECOND_EDITION]


def test_answers_to_the_old_version_are_refused_once_the_new_one_is_current(
    database_url: str, pg: psycopg.Connection[Any]
) -> None:
    request = SubmitRequest.model_validate(submission(questionnaireVersion="2026-11-v1"))

    with pytest.raises(errors.ValidationFailed) as caught:
        submit.submit(with_fakes(questionnaires=questionnaires()), request)

    assert [(d.field, d.message) for d in caught.value.details] == [
        ("questionnaireVersion", f"Questionnaire {SECOND_EDITION} is the current one.")
    ]
    assert pg.execute("SELECT count(*) AS n FROM reckonings").fetchone() == {"n": 0}


def test_a_stored_reckoning_is_written_and_judged_against_its_own_version_after_the_current_one_changed(
    database_url: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    status, _, _ = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())
    assert status == 201
    stored = latest(pg)
    assert stored["questionnaire_version"] == "2026-11-v1"
    pay(pg, stored["id"])

    # The worker's registry now has 2027-01-v2 as its current version.
    assert generate_report(GenerateJob(reckoning_id=stored["id"]), deps) == "ready"

    assert isinstance(deps.writer, RecordingWriter) and deps.writer.versions == ["2026-11-v1"]
    assert report_areas(pg, stored["id"])[:3] == ["work", "health", "relationships"]


def test_a_stored_version_missing_from_the_build_fails_the_reckoning_and_sends_nothing(
    database_url: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())
    stored = latest(pg)
    pg.execute("UPDATE reckonings SET status = 'paid', questionnaire_version = '2020-01-v0' WHERE id = %s",
               (stored["id"],))  # fmt: skip

    outcome = generate_report(GenerateJob(reckoning_id=stored["id"]), deps)

    assert outcome == "failed"
    assert latest(pg)["status"] == "failed"
    assert pg.execute("SELECT count(*) AS n FROM reports").fetchone() == {"n": 0}
    assert isinstance(deps.mailer, OutboxMailer) and not deps.mailer.directory.exists()
