"""Generate: one report job per invocation (BatchSize 1); a failed job comes back on a backoff, not after 90 min."""

import time
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from reckoning import db, worker
from reckoning.config import DATABASE, require
from reckoning.domain import generate
from reckoning.models.job import read_job
from reckoning.observability import logger, metrics

NEEDS = require(
    DATABASE, "ANTHROPIC_API_KEY", "RESEND_API_KEY", "REPORT_BUCKET", "APP_BASE_URL", "EMAIL_FROM", "REPORT_QUEUE_URL"
)

processor = worker.JobProcessor()


@cache
def collaborators() -> generate.Collaborators:
    return generate.production()


# Time kept back at the end of an invocation for saving, rendering and emailing.
_MARGIN_S = 60


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    try:
        job = read_job(record.body)
    except ValidationError:
        # Retrying cannot fix a malformed message: log it (not its body) and let it go.
        logger.error("malformed report job dropped", extra={"message_id": record.message_id})
        metrics.add_metric(name="MalformedJob", unit="Count", value=1)
        return
    deadline = time.monotonic() + lambda_context.get_remaining_time_in_millis() / 1000 - _MARGIN_S
    generate.handle(
        db.database(),
        job,
        collaborators(),
        final_receive=worker.last_receive(record),
        retry_in_s=worker.retry_delay_s(worker.receives(record)),
        deadline=deadline,
    )


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    if not event.get("Records"):
        raise ValueError("an SQS event without Records")
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
