"""Submit: serves the questionnaire and takes a completed one (POST /api/reckoning)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from reckoning import http, rate_limit
from reckoning.bootstrap import dependencies
from reckoning.config import DATABASE, require
from reckoning.domain import submit
from reckoning.domain.services import idempotency
from reckoning.envelope import ok
from reckoning.models.api import REPLAYED, REPLAYED_HEADER, SubmitRequest, SubmitResult
from reckoning.models.questionnaire import Questionnaire
from reckoning.observability import logger, metrics, tracer

NEEDS = require(DATABASE, "CORS_ORIGIN", "DIGEST_KEY")

app = http.create_app(rate_limit.limiter(dependencies))
ROUTE = "POST /api/reckoning"


@app.get(
    "/api/questionnaire",
    operation_id="getQuestionnaire",
    summary="The current questionnaire",
    tags=["questionnaire"],
    responses=http.documented(200, Questionnaire, "The versioned questionnaire definition."),
)
def get_questionnaire() -> Response[str]:
    return ok(dependencies().questionnaires.current(), headers={"Cache-Control": "public, max-age=300"})


@app.post(
    "/api/reckoning",
    operation_id="submitReckoning",
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
    keyed = idempotency.request(ROUTE, app.current_event.headers.get("idempotency-key"), body)
    answer = submit.submit(dependencies(), body, keyed)
    result = SubmitResult(**answer.body.model_dump(), report_url=f"/api/report/{answer.body.token}")
    return ok(result, status=201, headers={REPLAYED_HEADER: "true"} if answer.replayed else None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler()  # answers stay out of traces: tokens, names, report text
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
