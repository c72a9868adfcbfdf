"""Submit: serves the questionnaire and takes a completed one (POST /api/reckoning)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from reckoning import db, http
from reckoning.config import DATABASE, require
from reckoning.domain import rate_limit, submit
from reckoning.envelope import ok
from reckoning.models import questionnaire
from reckoning.models.api import REPLAYED, REPLAYED_HEADER, SubmitRequest, SubmitResult
from reckoning.models.questionnaire import Questionnaire
from reckoning.observability import logger, metrics

NEEDS = require(DATABASE, "CORS_ORIGIN", "DIGEST_KEY")

app = http.create_app(rate_limit.limiter(db.database))


@app.get(
    "/api/questionnaire",
    summary="The current questionnaire",
    tags=["questionnaire"],
    responses=http.documented(200, Questionnaire, "The versioned questionnaire definition."),
)
def get_questionnaire() -> Response[str]:
    return ok(questionnaire.current(), headers={"Cache-Control": "public, max-age=300"})


@app.post(
    "/api/reckoning",
    summary="Submit a completed questionnaire",
    tags=["reckoning"],
    responses={
        **http.documented(201, SubmitResult, "Stored; keep the token, it is the only way to the report.", REPLAYED),
        **http.conflict(
            "CONFLICT: this Idempotency-Key came with another body, or its first request is still running."
        ),
    },
)
def post_reckoning(body: Annotated[SubmitRequest, Body()]) -> Response[str]:
    key = app.current_event.headers.get("idempotency-key")
    answer = submit.submit(db.database(), body, idempotency_key=key)
    if answer.replayed:
        return ok(answer.body, status=201, headers={REPLAYED_HEADER: "true"})
    metrics.add_metric(name="ReckoningSubmitted", unit="Count", value=1)
    return ok(answer.body, status=201)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
