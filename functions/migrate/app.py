"""Migrate: applies pending database migrations from inside the VPC, TLS-verified like every other connection.

CloudFormation runs it on each deploy that changes the shared layer (the `DatabaseSchema` custom resource, before
the functions that need the new schema are updated); an operator runs it by hand with
`sam remote invoke MigrateFunction --stack-name <stack>`. Concurrent runs are safe: the runner serialises on an
advisory lock. A custom-resource event is always answered (SUCCESS or FAILED), before the function's own timeout,
so a deploy never waits an hour for a reply that will not come.
"""

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as Timeout
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.utilities.typing import LambdaContext

from reckoning import config
from reckoning.config import DATABASE, require
from reckoning.db.migrate import migrate
from reckoning.observability import logger, tracer

NEEDS = require(DATABASE)
PHYSICAL_ID = "reckoning-database-schema"  # one schema per stack: an update never replaces (and deletes) it
REPLY_RESERVE_S = 15  # time kept back to answer CloudFormation when the migrations run long
REPLY_TIMEOUT_S = 10


def apply() -> list[str]:
    """Apply pending migrations; the names applied now."""
    url = config.database_url()
    tls = config.database_tls()
    if tls:
        url += ("&" if "?" in url else "?") + urlencode(tls)
    return migrate(url)


def _answer(event: dict[str, Any], status: str, reason: str, data: dict[str, str]) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:900],
            "PhysicalResourceId": event.get("PhysicalResourceId") or PHYSICAL_ID,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": False,
            "Data": data,
        }
    ).encode()
    # A presigned S3 URL: Content-Type must be empty, as the signature was computed without one.
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's https ResponseURL
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    with urllib.request.urlopen(request, timeout=REPLY_TIMEOUT_S) as response:  # noqa: S310
        logger.info("answered CloudFormation", extra={"status": status, "http_status": response.status})


def _custom_resource(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    kind = event["RequestType"]
    if kind == "Delete":  # a schema outlives its stack's resources: nothing to undo
        _answer(event, "SUCCESS", "schema kept", {"Applied": ""})
        return {"status": "SUCCESS"}
    budget_s = max(1.0, context.get_remaining_time_in_millis() / 1000 - REPLY_RESERVE_S)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        applied = pool.submit(apply).result(timeout=budget_s)
    except Timeout:
        logger.error("migrations outran the function's timeout", extra={"budget_s": budget_s})
        _answer(event, "FAILED", f"migrations did not finish within {budget_s:.0f} s; see the function's log", {})
        return {"status": "FAILED"}
    except Exception as exc:
        logger.exception("migrations failed")
        _answer(event, "FAILED", f"{type(exc).__name__}: see the migrate function's log", {})
        return {"status": "FAILED"}
    finally:
        pool.shutdown(wait=False)
    logger.info("migrations applied", extra={"applied": applied, "request_type": kind})
    _answer(event, "SUCCESS", f"applied {len(applied)}", {"Applied": ",".join(applied)})
    return {"status": "SUCCESS", "applied": applied}


@logger.inject_lambda_context
@tracer.capture_lambda_handler()  # answers stay out of traces: tokens, names, report text
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "ResponseURL" in event:
        return _custom_resource(event, context)
    applied = apply()  # by hand: a failure is the invocation's error
    logger.info("migrations applied", extra={"applied": applied})
    return {"applied": applied}
