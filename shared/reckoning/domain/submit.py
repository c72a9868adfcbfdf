"""Submitting a questionnaire: validate the answers, store the reckoning, hand out its token."""

from __future__ import annotations

from datetime import timedelta

from reckoning import db, errors
from reckoning.config import settings
from reckoning.db import reckonings
from reckoning.domain import tokens
from reckoning.models import questionnaire
from reckoning.models.api import SubmitRequest
from reckoning.observability import logger


def submit(
    database: db.Database, request: SubmitRequest, questionnaires: questionnaire.Questionnaires | None = None
) -> str:
    """Store the reckoning (awaiting payment); returns its report token, the only way back to it."""
    current = (questionnaires or questionnaire.served()).current()
    if request.questionnaire_version not in {None, current.version}:
        raise errors.ValidationFailed(
            [errors.FieldError("questionnaireVersion", f"Questionnaire {current.version} is the current one.")]
        )
    problems = questionnaire.validate_answers(current, request.answers)
    if problems:
        raise errors.ValidationFailed(problems)
    with database.transaction() as conn:
        reckoning_id = reckonings.insert(conn, request.email, request.name, current.version, request.answers)
        # The person's key to poll, pay and read: it lives as long as the reckoning's data may.
        token = tokens.mint(conn, reckoning_id, "report", timedelta(days=settings().retention_days))
    logger.info("reckoning submitted", extra={"reckoning_id": str(reckoning_id)})
    return token
