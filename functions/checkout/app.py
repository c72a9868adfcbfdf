"""Checkout: starts (or resumes) the Stripe Checkout session of a reckoning (POST /api/checkout)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from reckoning import http, rate_limit
from reckoning.bootstrap import dependencies
from reckoning.config import DATABASE, require
from reckoning.domain import checkout
from reckoning.domain.services import idempotency
from reckoning.envelope import ErrorEnvelope, ok
from reckoning.models.api import REPLAYED, REPLAYED_HEADER, CheckoutRequest, CheckoutResult
from reckoning.observability import logger, metrics, tracer

NEEDS = require(
    DATABASE,
    "CORS_ORIGIN",
    "DIGEST_KEY",
    "APP_BASE_URL",
    "STRIPE_SECRET_KEY",
    ("STRIPE_PRICE_ID", "PRICE_AMOUNT"),
    ("STRIPE_PRICE_ID", "PRICE_CURRENCY"),
)

app = http.create_app(rate_limit.limiter(dependencies))
ROUTE = "POST /api/checkout"


@app.post(
    "/api/checkout",
    operation_id="startCheckout",
    summary="Start or resume payment for a reckoning",
    tags=["payment"],
    responses={
        **http.documented(200, CheckoutResult, "Redirect the browser to checkoutUrl.", REPLAYED),
        **http.conflict(
            "CONFLICT: the reckoning is paid already; or this Idempotency-Key came with another body, or its first "
            "request is still running (Retry-After)."
        ),
        400: {
            "description": "VALIDATION_ERROR: a malformed body; or field `email`: the payment provider refused the "
            "address given with the questionnaire (submit it again with another address).",
            "content": {"application/json": {"model": ErrorEnvelope}},
        },
        503: {
            "description": "SERVICE_UNAVAILABLE: the database or Stripe is down, slow or rate limiting; "
            "try again after Retry-After seconds.",
            "content": {"application/json": {"model": ErrorEnvelope}},
        },
    },
)
def post_checkout(body: Annotated[CheckoutRequest, Body()]) -> Response[str]:
    keyed = idempotency.request(ROUTE, app.current_event.headers.get("idempotency-key"), body)
    answer = checkout.checkout(dependencies(), body, keyed)
    return ok(answer.body, headers={REPLAYED_HEADER: "true"} if answer.replayed else None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler()  # answers stay out of traces: tokens, names, report text
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
