"""Report: what a token holder sees (GET /api/report/{token})."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from reckoning import db, http
from reckoning.domain import rate_limit, status
from reckoning.envelope import ok
from reckoning.observability import logger, metrics

app = http.create_app(rate_limit.limiter(db.database))


@app.get("/api/report/<token>", summary="Status of a reckoning, and its report when ready", tags=["report"])
def get_report(token: str) -> Response[str]:
    result = status.report_status(db.database(), token)
    headers = {"Retry-After": str(result.retry_after_seconds)} if result.retry_after_seconds else None
    return ok(result, headers=headers)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
