"""Lambda events as AWS builds them, and the local gateway that builds them from HTTP requests (no sockets)."""

from __future__ import annotations

import base64
import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from reckoning_local import template as tpl
from reckoning_local.events import (
    LambdaContext,
    function_url_event,
    http_event,
    scheduled_event,
    sqs_record,
)
from reckoning_local.pollers import deletable
from reckoning_local.server import Gateway, Page, PageRequest, Request, Response, lambda_response

# ---------------------------------------------------------------- payload 2.0


def test_headers_are_lower_cased_and_cookies_move_to_their_own_list() -> None:
    event = http_event("get", "/x", headers={"X-Trace": "1", "Cookie": "a=1; b=2", "User-Agent": "ua"})

    assert event["headers"] == {"x-trace": "1", "user-agent": "ua"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["http"]["userAgent"] == "ua"


def test_the_route_key_is_set_at_the_top_and_in_the_request_context() -> None:
    event = http_event("GET", "/api/report/abc", route_key="GET /api/report/{token}", path_parameters={"token": "abc"})

    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /api/report/{token}"
    assert event["pathParameters"] == {"token": "abc"}
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/api/report/abc"
    assert event["version"] == "2.0"


def test_repeated_query_keys_are_comma_joined_and_the_raw_string_kept() -> None:
    event = http_event("GET", "/x", query="a=1&a=2&b=x%20y&c=")

    assert event["rawQueryString"] == "a=1&a=2&b=x%20y&c="
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y", "c": ""}


def test_no_query_and_no_body_leave_their_fields_out() -> None:
    event = http_event("GET", "/x")

    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event
    assert "body" not in event
    assert "cookies" not in event
    assert event["isBase64Encoded"] is False


def test_a_json_body_is_passed_as_text() -> None:
    event = http_event(
        "POST", "/x", headers={"Content-Type": "application/json; charset=utf-8"}, body=b'{"a": "\xc3\xa9"}'
    )

    assert event["body"] == '{"a": "é"}'
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/octet-stream", b"\x00\x01text"),
        ("image/png", b"\x89PNG"),
        ("", b"no content type"),
        ("application/json", b"\xff\xfe not utf-8"),
    ],
)
def test_a_body_that_is_not_text_is_base64_encoded(content_type: str, body: bytes) -> None:
    event = http_event("POST", "/x", headers={"content-type": content_type}, body=body)

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_the_source_ip_comes_from_the_caller() -> None:
    assert http_event("GET", "/", source_ip="203.0.113.9")["requestContext"]["http"]["sourceIp"] == "203.0.113.9"


def test_a_function_url_event_has_the_default_route_and_its_own_domain() -> None:
    event = function_url_event("POST", "/", body='{"id": 1}', headers={"Content-Type": "application/json"})

    assert event["routeKey"] == event["requestContext"]["routeKey"] == "$default"
    assert event["requestContext"]["domainName"] == "local.lambda-url.eu-west-1.on.aws"
    assert event["body"] == '{"id": 1}'
    assert "pathParameters" not in event


# ---------------------------------------------------------------- SQS, schedules, context


MESSAGE: dict[str, Any] = {
    "MessageId": "m-1",
    "ReceiptHandle": "rh-1",
    "MD5OfBody": "md5",
    "Body": '{"reckoningId": "r"}',
    "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1", "ApproximateFirstReceiveTimestamp": "2"},
    "MD5OfMessageAttributes": "md5attrs",
    "MessageAttributes": {
        "reason": {"DataType": "String", "StringValue": "retry"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
    },
}


def test_an_sqs_record_is_shaped_as_lambda_delivers_it() -> None:
    record = sqs_record(MESSAGE, "arn:aws:sqs:eu-west-1:123456789012:q")

    assert record == {
        "messageId": "m-1",
        "receiptHandle": "rh-1",
        "body": '{"reckoningId": "r"}',
        "attributes": MESSAGE["Attributes"],
        "messageAttributes": {
            "reason": {"stringValue": "retry", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
            "raw": {"binaryValue": "AQI=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
        },
        "md5OfBody": "md5",
        "md5OfMessageAttributes": "md5attrs",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:q",
        "awsRegion": "eu-west-1",
    }


def _messages(*ids: str) -> list[Any]:
    return [{"MessageId": i, "ReceiptHandle": f"rh-{i}"} for i in ids]


def test_with_partial_failures_only_unlisted_records_are_deleted() -> None:
    response = {"batchItemFailures": [{"itemIdentifier": "b"}]}

    assert [m["MessageId"] for m in deletable(_messages("a", "b", "c"), response, partial=True)] == ["a", "c"]


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, "ok"])
def test_a_batch_with_no_listed_failures_is_deleted_whole(response: Any) -> None:
    assert len(deletable(_messages("a", "b"), response, partial=True)) == 2


@pytest.mark.parametrize("identifier", ["", None, "unknown"])
def test_an_invalid_failure_identifier_keeps_the_whole_batch(identifier: str | None) -> None:
    response = {"batchItemFailures": [{"itemIdentifier": identifier}]}

    assert deletable(_messages("a", "b"), response, partial=True) == []


def test_without_report_batch_item_failures_a_returned_batch_succeeded_whole() -> None:
    response = {"batchItemFailures": [{"itemIdentifier": "a"}]}

    assert len(deletable(_messages("a", "b"), response, partial=False)) == 2


def test_scheduled_events_name_their_schedule() -> None:
    event = scheduled_event("Sweep", "eu-west-1")

    assert (event["detail-type"], event["source"], event["detail"]) == ("Scheduled Event", "aws.scheduler", {})
    assert event["resources"] == ["arn:aws:scheduler:eu-west-1:123456789012:schedule/default/Sweep"]


def test_the_context_counts_down_from_the_function_timeout() -> None:
    context = LambdaContext(function_name="f", timeout_s=10, region="us-east-2")

    assert 9_000 < context.get_remaining_time_in_millis() <= 10_000
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-2:123456789012:function:f"


# ---------------------------------------------------------------- the gateway


TEMPLATE = """
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: [https://app.example]
        AllowMethods: [GET, POST]
        AllowHeaders: [content-type]
        ExposeHeaders: [retry-after]
        MaxAge: 600
  Items:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.h
      CodeUri: .
      Events:
        One: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: "/items/{id}", Method: GET}}
        New: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /items/new, Method: GET}}
  Hook:
    Type: AWS::Serverless::Function
    Metadata: {LocalUrlPath: /webhooks/stripe}
    Properties:
      Handler: app.h
      CodeUri: .
      FunctionUrlConfig: {AuthType: NONE}
"""


class Recorder:
    """Stands in for the functions: records each invocation, answers with `reply`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.reply: Any = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}

    def __call__(self, function: str, event: dict[str, Any]) -> Any:
        self.calls.append((function, event))
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def crashing_page(_: PageRequest) -> Response:
    raise RuntimeError("boom: secret detail")


def checkout_page(page: PageRequest) -> Response:
    return Response(200, [("Content-Type", "text/html")], f"<h1>Pay {page.match['session']}</h1>".encode())


def static_page(_: PageRequest) -> Response:
    return Response(200, [("Content-Type", "text/plain")], b"page")


PAGES = (
    Page("*", re.compile(r"/_local/boom"), crashing_page),
    Page("GET", re.compile(r"/_local/checkout/(?P<session>[\w-]+)"), checkout_page),
    Page("GET", re.compile(r"/items/new"), static_page),  # a page shadows a template route
)


@pytest.fixture
def gateway(recorder: Recorder) -> Gateway:
    template = tpl.load(Path("/nowhere/template.yaml"), text=textwrap.dedent(TEMPLATE))
    return Gateway(template, recorder, "http://127.0.0.1:3000")


@pytest.fixture
def with_pages(recorder: Recorder) -> Gateway:
    template = tpl.load(Path("/nowhere/template.yaml"), text=textwrap.dedent(TEMPLATE))
    return Gateway(template, recorder, "http://127.0.0.1:3000", PAGES)


def request(method: str, path: str, query: str = "", body: bytes = b"", **headers: str) -> Request:
    return Request(method, path, query, {k.replace("_", "-"): v for k, v in headers.items()}, body, "198.51.100.4")


def test_a_literal_route_wins_over_a_parameter_route(gateway: Gateway, recorder: Recorder) -> None:
    gateway.handle(request("GET", "/items/new"))
    gateway.handle(request("GET", "/items/42"))

    (_, literal), (_, param) = recorder.calls
    assert literal["routeKey"] == "GET /items/new"
    assert "pathParameters" not in literal
    assert param["routeKey"] == "GET /items/{id}"
    assert param["pathParameters"] == {"id": "42"}


def test_a_path_parameter_is_one_segment_percent_decoded(gateway: Gateway, recorder: Recorder) -> None:
    gateway.handle(request("GET", "/items/a%20b"))
    nested = gateway.handle(request("GET", "/items/a/b"))

    ((_, event),) = recorder.calls
    assert event["pathParameters"] == {"id": "a b"}
    assert nested.status == 404


def test_the_event_carries_the_client_address_and_forwarding_headers(gateway: Gateway, recorder: Recorder) -> None:
    gateway.handle(request("GET", "/items/1", "q=1", x_test="yes"))

    ((function, event),) = recorder.calls
    assert function == "Items"
    assert event["requestContext"]["http"]["sourceIp"] == "198.51.100.4"
    assert event["headers"]["x-forwarded-for"] == "198.51.100.4"
    assert event["headers"]["x-test"] == "yes"
    assert event["queryStringParameters"] == {"q": "1"}


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/items/1"), ("GET", "/items"), ("GET", "/items/1/extra"), ("TRACE", "/items/1")]
)
def test_unmatched_requests_get_api_gateways_own_404(
    gateway: Gateway, recorder: Recorder, method: str, path: str
) -> None:
    response = gateway.handle(request(method, path))

    assert response.status == 404
    assert json.loads(response.body) == {"message": "Not Found"}
    assert response.header("Content-Type") == "application/json"
    assert recorder.calls == []


def test_a_crashing_handler_becomes_the_apps_500_envelope(gateway: Gateway, recorder: Recorder) -> None:
    recorder.reply = RuntimeError("boom: secret detail")

    response = gateway.handle(request("GET", "/items/1"))

    assert response.status == 500
    assert json.loads(response.body) == {
        "success": False,
        "error": {"code": "INTERNAL_ERROR", "message": "Internal error.", "requestId": response.header("X-Request-Id")},
    }
    assert b"secret detail" not in response.body
    assert (response.header("Content-Type"), response.header("Cache-Control")) == ("application/json", "no-store")
    assert (response.header("X-Content-Type-Options"), response.header("Referrer-Policy")) == ("nosniff", "no-referrer")


def test_a_function_url_gets_its_path_below_the_local_prefix(gateway: Gateway, recorder: Recorder) -> None:
    raw = b'{"id":"evt_1"}'

    gateway.handle(request("POST", "/webhooks/stripe", body=raw, content_type="application/json"))
    gateway.handle(request("POST", "/webhooks/stripe/extra"))

    (function, event), (_, nested) = recorder.calls
    assert function == "Hook"
    assert (event["routeKey"], event["rawPath"], event["body"]) == ("$default", "/", raw.decode())
    assert nested["rawPath"] == "/extra"


def test_a_preflight_from_the_allowed_origin_is_answered_by_the_gateway(gateway: Gateway, recorder: Recorder) -> None:
    response = gateway.handle(
        request("OPTIONS", "/items/1", origin="https://app.example", access_control_request_method="GET")
    )

    assert response.status == 204
    assert response.header("Access-Control-Allow-Origin") == "https://app.example"
    assert response.header("Access-Control-Allow-Methods") == "GET,POST"
    assert response.header("Access-Control-Max-Age") == "600"
    assert recorder.calls == []


def test_cors_headers_of_responses_come_from_the_configuration_not_the_function(
    gateway: Gateway, recorder: Recorder
) -> None:
    recorder.reply = {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*"}, "body": ""}

    allowed = gateway.handle(request("GET", "/items/1", origin="https://app.example"))
    other = gateway.handle(request("GET", "/items/1", origin="https://evil.example"))

    assert allowed.header("Access-Control-Allow-Origin") == "https://app.example"
    assert allowed.header("Access-Control-Expose-Headers") == "retry-after"
    assert other.header("Access-Control-Allow-Origin") is None


def test_without_a_cors_configuration_a_preflight_is_routed_like_any_request(recorder: Recorder) -> None:
    bare = tpl.load(
        Path("/nowhere/template.yaml"),
        text=textwrap.dedent("""
        Resources:
          F:
            Type: AWS::Serverless::Function
            Properties:
              Handler: app.h
              CodeUri: .
              Events:
                Options: {Type: HttpApi, Properties: {Path: "/x", Method: OPTIONS}}
        """),
    )
    gateway = Gateway(bare, recorder, "http://127.0.0.1:3000")

    gateway.handle(request("OPTIONS", "/x", origin="https://app.example", access_control_request_method="GET"))

    ((_, event),) = recorder.calls
    assert event["routeKey"] == "OPTIONS /x"


def test_a_crashing_local_page_becomes_the_apps_500_envelope(with_pages: Gateway) -> None:
    response = with_pages.handle(request("POST", "/_local/boom"))

    assert response.status == 500
    request_id = response.header("X-Request-Id")  # the answer's own: the crash left no request id behind
    assert json.loads(response.body)["error"] == {
        "code": "INTERNAL_ERROR",
        "message": "Internal error.",
        "requestId": request_id,
    }
    assert b"secret detail" not in response.body


def test_pages_handed_to_the_gateway_are_served_before_template_routes(
    with_pages: Gateway, gateway: Gateway, recorder: Recorder
) -> None:
    page = with_pages.handle(request("GET", "/_local/checkout/cs_1"))
    shadowed = with_pages.handle(request("GET", "/items/new"))
    wrong_method = with_pages.handle(request("POST", "/_local/checkout/cs_1"))
    without_pages = gateway.handle(request("GET", "/_local/checkout/cs_1"))

    assert (page.status, page.body) == (200, b"<h1>Pay cs_1</h1>")
    assert (shadowed.status, shadowed.body) == (200, b"page")
    assert recorder.calls == []
    assert (wrong_method.status, json.loads(wrong_method.body)) == (404, {"message": "Not Found"})
    assert (without_pages.status, json.loads(without_pages.body)) == (404, {"message": "Not Found"})


# ---------------------------------------------------------------- responses


def test_a_full_response_keeps_status_headers_cookies_and_body() -> None:
    response = lambda_response(
        {
            "statusCode": 302,
            "headers": {"Location": "https://s3.local/x", "X-Multi": ["a", "b"]},
            "cookies": ["a=1", "b=2"],
            "body": "",
        }
    )

    assert response.status == 302
    assert response.headers == [
        ("Location", "https://s3.local/x"),
        ("X-Multi", "a,b"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]


def test_a_base64_body_is_decoded_before_it_is_sent() -> None:
    response = lambda_response(
        {"statusCode": 200, "body": base64.b64encode(b"%PDF-1.7").decode(), "isBase64Encoded": True}
    )

    assert response.body == b"%PDF-1.7"


def test_a_bare_return_value_is_sent_as_200_json() -> None:
    response = lambda_response({"received": True})

    assert (response.status, response.header("content-type"), json.loads(response.body)) == (
        200,
        "application/json",
        {"received": True},
    )
