"""Sweeper (every minute): re-enqueues stale work, relays unsent outbox messages, prunes old rate-limit counters,
erases what is kept past its retention."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from reckoning.bootstrap import dependencies
from reckoning.config import DATABASE, require
from reckoning.domain import sweep
from reckoning.observability import logger, metrics, tracer

NEEDS = require(DATABASE, "REPORT_QUEUE_URL", "REPORT_BUCKET", "STRIPE_SECRET_KEY")  # the purge expires sessions


@logger.inject_lambda_context
@tracer.capture_lambda_handler()  # answers stay out of traces: tokens, names, report text
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = sweep.sweep(dependencies())
    return {"sent": result.sent, "failed": result.failed}
