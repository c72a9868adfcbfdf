"""Submitting a questionnaire: validate the answers, store the reckoning, hand out its token."""

from __future__ import annotations

from datetime import timedelta

from reckoning import db, errors
from reckoning.config import settings
from reckoning.db import reckonings
from reckoning.domain import idempotency, tokens
from reckoning.models import questionnaire
from reckoning.models.api import SubmitRequest, SubmitResult
from reckoning.models.status import Status
from reckoning.observability import logger

ROUTE = "POST /api/reckoning"


def submit(
    database: db.Database,
    request: SubmitRequest,
    questionnaires: questionnaire.Questionnaires | None = None,
    idempotency_key: str | None = None,
) -> idempotency.Answer[SubmitResult]:
    """Store the reckoning (awaiting payment); the answer holds its report token, the only way back to it.
    With an idempotency key, the same request again gets the first answer (docs: domain/idempotency.py)."""
    current = (questionnaires or questionnaire.served()).current()
    if request.questionnaire_version not in {None, current.version}:
        raise errors.ValidationFailed(
            [errors.FieldError("questionnaireVersion", f"Questionnaire {current.version} is the current one.")]
        )
    problems = questionnaire.validate_answers(current, request.answers)
    if problems:
        raise errors.ValidationFailed(problems)
    answers = questionnaire.normalized(current, request.answers)

    def store(done: idempotency.Done) -> SubmitResult:
        with database.transaction() as conn:
            reckoning_id = reckonings.insert(conn, request.email, request.name, current.version, answers)
            # The person's key to poll, pay and read: it lives as long as the reckoning's data may.
            token = tokens.mint(conn, reckoning_id, "report", timedelta(days=settings().retention_days))
            result = SubmitResult(token=token, status=Status.AWAITING_PAYMENT, report_url=f"/api/report/{token}")
            done(conn, reckoning_id, result)
        logger.info("reckoning submitted", extra={"reckoning_id": str(reckoning_id)})
        return result

    return idempotency.once(database, idempotency.request(ROUTE, idempotency_key, request), SubmitResult, store)
