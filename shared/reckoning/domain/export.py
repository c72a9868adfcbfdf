"""A person's export: everything stored about their reckoning, read through its token."""

from __future__ import annotations

from datetime import UTC, datetime

from reckoning import db
from reckoning.db import export
from reckoning.db.reckonings import Reckoning
from reckoning.domain import tokens
from reckoning.models import questionnaire
from reckoning.models.export import Export, ExportedAnswer, ExportedReckoning


def export_of(database: db.Database, token: str, questionnaires: questionnaire.Questionnaires | None = None) -> Export:
    with database.transaction() as conn:
        reckoning = tokens.reckoning_for(conn, token)
        rows = export.rows(conn, reckoning.id)
    return Export(
        exported_at=datetime.now(UTC),
        reckoning=ExportedReckoning.model_validate(reckoning, from_attributes=True),
        answers=_answers(reckoning, questionnaires or questionnaire.served()),
        reports=rows["reports"],
        payments=rows["payments"],
        payment_events=rows["stripe_events"],
        emails=rows["emails"],
        links=rows["access_tokens"],
        status_history=rows["reckoning_events"],
        generation_attempts=rows["generation_attempts"],
        idempotent_requests=rows["idempotency_keys"],
    )


def _answers(reckoning: Reckoning, questionnaires: questionnaire.Questionnaires) -> list[ExportedAnswer]:
    try:
        asked: questionnaire.Questionnaire | None = questionnaires.version(reckoning.questionnaire_version)
    except questionnaire.UnknownQuestionnaire:  # a version missing from the build: the answers still go out
        asked = None
    prompts = {question.id: question.prompt for question in asked.questions} if asked else {}
    return [
        ExportedAnswer(question_id=key, question=prompts.get(key), answer=value)
        for key, value in reckoning.answers.items()
    ]
