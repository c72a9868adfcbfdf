"""Report: what a token holder sees, exports and erases (/api/report/{token}[/pdf|/export]), and lost-link recovery."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from reckoning import http, rate_limit
from reckoning.bootstrap import dependencies
from reckoning.config import DATABASE, require
from reckoning.domain import links, report
from reckoning.envelope import ok
from reckoning.models.api import Erased, LinksAccepted, LinksRequest, ReportStatus
from reckoning.models.export import Export
from reckoning.observability import logger, metrics, tracer

NEEDS = require(DATABASE, "CORS_ORIGIN", "REPORT_BUCKET", "DIGEST_KEY", "STRIPE_SECRET_KEY")  # erasure expires sessions

app = http.create_app(rate_limit.limiter(dependencies))


@app.get(
    "/api/report/<token>",
    operation_id="getReport",
    summary="Status of a reckoning, and its report when ready",
    tags=["report"],
    responses={
        **http.documented(200, ReportStatus, "Status; while not ready a Retry-After polling hint."),
        **http.bodiless(304, "The ready report is unchanged (If-None-Match matched its ETag).", "ETag"),
    },
)
def get_report(token: str) -> Response[str]:
    view = report.report_status(dependencies(), token)
    if view.version is None:
        retry = getattr(view.body, "retry_after_seconds", None)
        return ok(view.body, headers={"Retry-After": str(retry)} if retry else None)
    return http.revalidated(ok(view.body), view.version, app.current_event.headers.get("if-none-match"))


@app.post(
    "/api/report/links",
    operation_id="requestReportLinks",
    summary="Email fresh report links (lost-link recovery)",
    tags=["report"],
    responses=http.documented(202, LinksAccepted, "Always the same answer, whether or not the address is known."),
)
def post_links(body: Annotated[LinksRequest, Body()]) -> Response[str]:
    links.request_links(dependencies(), body.email)
    return ok(LinksAccepted(), status=202)


@app.get(
    "/api/report/<token>/pdf",
    operation_id="getReportPdf",
    summary="Redirect (302) to a short-lived (≤ 300 s) link to the PDF",
    tags=["report"],
    responses=http.bodiless(302, "Location: a presigned URL of the PDF.", "Location"),
)
def get_pdf(token: str) -> Response[str]:
    location = report.pdf_location(dependencies(), token)
    return Response(status_code=302, body="", headers={"Location": location})


@app.get(
    "/api/report/<token>/export",
    operation_id="exportReport",
    summary="Everything stored about the reckoning, as JSON",
    tags=["privacy"],
    responses=http.documented(200, Export, "Answers with their questions, reports, payments, emails, link dates."),
)
def get_export(token: str) -> Response[str]:
    return ok(report.export_of(dependencies(), token))


@app.delete(
    "/api/report/<token>",
    operation_id="eraseReport",
    summary="Erase the reckoning's personal data and revoke every link",
    tags=["privacy"],
    responses=http.documented(
        202, Erased, "Erased; only an anonymous accounting record stays. The token is unknown from now on (404)."
    ),
)
def delete_report(token: str) -> Response[str]:
    report.erase(dependencies(), token)
    return ok(Erased(), status=202)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler()  # answers stay out of traces: tokens, names, report text
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
