"""Generate: one report job per invocation (BatchSize 1); a failed job comes back on a backoff, not after 90 min."""

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from reckoning import bootstrap, worker
from reckoning.config import DATABASE, require
from reckoning.dependencies import Dependencies
from reckoning.domain import generate, links
from reckoning.models.job import LinksJob, read_job
from reckoning.observability import logger, metrics, tracer

NEEDS = require(
    DATABASE, "ANTHROPIC_API_KEY", "RESEND_API_KEY", "REPORT_BUCKET", "APP_BASE_URL", "EMAIL_FROM", "REPORT_QUEUE_URL"
)
bootstrap.refuse_unpriced_models()


def handle_record(deps: Dependencies, record: SQSRecord, remaining_ms: int) -> None:
    try:
        job = read_job(record.body)
    except ValidationError:
        # Retrying cannot fix a malformed message: log it (not its body) and let it go.
        logger.error("malformed report job dropped", extra={"message_id": record.message_id})
        metrics.add_metric(name="MalformedJob", unit="Count", value=1)
        return
    if isinstance(job, LinksJob):
        links.send_links(deps, job)
    else:
        generate.generate(deps, job, worker.delivery(record, deps, remaining_ms))


@logger.inject_lambda_context
@tracer.capture_lambda_handler()  # answers stay out of traces: tokens, names, report text
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, deps: Dependencies | None = None
) -> PartialItemFailureResponse:
    """`deps`: the process's own unless a test passes others."""
    if not event.get("Records"):
        raise ValueError("an SQS event without Records")
    given = deps

    def dependencies() -> Dependencies:  # built inside the handling, so a failure to build is the record's
        return given or bootstrap.dependencies()

    def record_handler(record: SQSRecord) -> None:
        handle_record(dependencies(), record, context.get_remaining_time_in_millis())

    processor = worker.JobProcessor(dependencies)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
