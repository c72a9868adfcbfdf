"""Faithful Lambda events and context.

API Gateway HTTP API payload 2.0 (function URLs send the same shape with
`routeKey: "$default"`), SQS batches as an event source mapping delivers them,
and EventBridge Scheduler's scheduled events.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from reckoning_local.template import ACCOUNT_ID, DEFAULT_REGION

# API Gateway and function URLs pass these bodies as text; everything else is base64.
_TEXT_TYPES = (
    "application/json",
    "text/",
    "application/x-www-form-urlencoded",
    "application/xml",
    "application/javascript",
)


def http_event(
    method: str,
    path: str,
    *,
    route_key: str = "$default",
    path_parameters: dict[str, str] | None = None,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    source_ip: str = "127.0.0.1",
    api_id: str = "local",
) -> dict[str, Any]:
    """A payload-2.0 event as API Gateway builds it from one HTTP request.

    Header names are lower-cased, `Cookie` headers become `cookies`, repeated
    query keys are comma-joined in `queryStringParameters`, and a body that is
    not text (by content type, or not UTF-8) is base64-encoded.
    """
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    now = time.time()
    domain = lowered.get("host", "127.0.0.1")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": domain.split(".")[0].split(":")[0],
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query_parameters(query)
    if path_parameters:
        event["pathParameters"] = path_parameters
    event.update(encode_body(body, lowered.get("content-type", "")))
    return event


def function_url_event(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    source_ip: str = "127.0.0.1",
    url_id: str = "local",
    region: str = DEFAULT_REGION,
) -> dict[str, Any]:
    """A function-URL event: payload 2.0, `routeKey` `$default`, no path parameters, raw body."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    lowered.setdefault("host", f"{url_id}.lambda-url.{region}.on.aws")
    event = http_event(method, path, query=query, headers=lowered, body=body, source_ip=source_ip, api_id=url_id)
    event["requestContext"]["domainPrefix"] = url_id
    return event


def query_parameters(query: str) -> dict[str, str]:
    """`queryStringParameters` of payload 2.0: decoded, repeated keys joined with commas."""
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def encode_body(body: bytes | str | None, content_type: str) -> dict[str, Any]:
    """`body` and `isBase64Encoded` as API Gateway sets them; nothing for an empty body."""
    raw = body.encode() if isinstance(body, str) else body
    if not raw:
        return {}
    if content_type.lower().startswith(_TEXT_TYPES):
        try:
            return {"body": raw.decode(), "isBase64Encoded": False}
        except UnicodeDecodeError:
            pass
    return {"body": base64.b64encode(raw).decode(), "isBase64Encoded": True}


def sqs_event(messages: list[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event an SQS event source mapping sends for messages from `ReceiveMessage`."""
    return {"Records": [sqs_record(message, queue_arn) for message in messages]}


def sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],  # the queue's own region
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    # boto3 returns binary values as bytes; Lambda passes them base64-encoded, in camelCase.
    converted: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        binary = value["BinaryValue"]
        converted["binaryValue"] = base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary
    return converted


def scheduled_event(name: str, region: str = DEFAULT_REGION) -> dict[str, Any]:
    """The "Scheduled Event" EventBridge Scheduler sends (a ScheduleV2 event with no Input)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": ACCOUNT_ID,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [f"arn:aws:scheduler:{region}:{ACCOUNT_ID}:schedule/default/{name}"],
        "detail": {},
    }


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str = "local"
    memory_limit_in_mb: int = 512
    timeout_s: int = 30
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    region: str = DEFAULT_REGION
    _started: float = field(default_factory=time.time, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._started + self.timeout_s - time.time()) * 1000))
