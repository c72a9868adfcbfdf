"""Stripe webhook (Lambda function URL): verify, record once, apply, then relay the outbox.

Any failure before the commit answers 500 (WebhookFailed in the error table) so that Stripe retries the delivery.
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from reckoning import errors, http
from reckoning.bootstrap import dependencies
from reckoning.config import DATABASE, require
from reckoning.domain import webhook
from reckoning.envelope import ok
from reckoning.models.api import WebhookReceived
from reckoning.observability import logger, metrics, tracer

NEEDS = require(DATABASE, "STRIPE_WEBHOOK_SECRET", "REPORT_QUEUE_URL")

app = http.create_app(raw_body=True)  # the signature covers the exact bytes: they are read here


@app.post("/", include_in_schema=False)  # the function URL's own root in AWS
@app.post(
    "/webhooks/stripe",
    operation_id="receiveStripeEvent",
    summary="Stripe events (a Lambda function URL in AWS; Stripe-Signature header required)",
    tags=["payment"],
    responses=http.documented(200, WebhookReceived, "Verified (also duplicates and ignored types)."),
)
def post_event() -> Response[str]:
    signature = app.current_event.headers.get("stripe-signature")
    webhook.receive(dependencies(), _raw_payload(), signature)
    return ok(WebhookReceived())


def _raw_payload() -> str:
    """The body as Stripe sent it. Stripe signs UTF-8 JSON, so other bytes cannot carry a valid signature."""
    try:
        return app.current_event.decoded_body or ""
    except UnicodeDecodeError as exc:
        raise errors.InvalidSignature("the body is not UTF-8") from exc


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
@tracer.capture_lambda_handler()  # answers stay out of traces: tokens, names, report text
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
