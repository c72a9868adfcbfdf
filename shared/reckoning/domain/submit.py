"""Submitting a questionnaire: validate the answers, store the reckoning, hand out its token."""

from __future__ import annotations

from reckoning import errors
from reckoning.db import reckonings
from reckoning.dependencies import Dependencies
from reckoning.domain.services import idempotency, tokens
from reckoning.models.answers import normalized, validate_answers
from reckoning.models.api import SubmitRequest, Submitted
from reckoning.models.status import PublicStatus
from reckoning.observability import logger, metrics


def submit(
    deps: Dependencies, request: SubmitRequest, keyed: idempotency.Request | None = None
) -> idempotency.Answer[Submitted]:
    """Store the reckoning (awaiting payment); the answer holds its report token, the only way back to it.
    With an idempotency key, the same request again gets the first answer (docs: services/idempotency.py)."""
    current = deps.questionnaires.current()
    if request.questionnaire_version not in {None, current.version}:
        raise errors.ValidationFailed(
            [errors.FieldError("questionnaireVersion", f"Questionnaire {current.version} is the current one.")]
        )
    problems = validate_answers(current, request.answers)
    if problems:
        raise errors.ValidationFailed(problems)
    answers = normalized(current, request.answers)

    def store(done: idempotency.Done) -> Submitted:
        with deps.database.transaction() as conn:
            reckoning_id = reckonings.insert(conn, request.email, request.name, current.version, answers)
            # The person's key to poll, pay and read: it lives as long as the reckoning's data may.
            token = tokens.mint(conn, reckoning_id, "report", deps.policy.report_token_lifetime)
            result = Submitted(token=token, status=PublicStatus.AWAITING_PAYMENT)
            done(conn, reckoning_id, result)
        logger.info("reckoning submitted", extra={"reckoning_id": str(reckoning_id)})
        metrics.add_metric(name="ReckoningSubmitted", unit="Count", value=1)
        return result

    return idempotency.once(deps.database, keyed, Submitted, store)
