"""The stack runs whatever a template declares: routes, function URLs, SQS mappings, schedules.

Each test writes a tiny template and a handler directory into tmp_path, so
nothing here depends on the product's own functions.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reckoning_local import client
from reckoning_local.pollers import ScheduleRunner
from reckoning_local.stack import StackOptions, invoke
from reckoning_local.template import Schedule
from tests.conftest import StartStack

pytestmark = pytest.mark.e2e

ECHO_HANDLER = """
import json
import os


def handler(event, context):
    body = {"event": event, "function": context.function_name, "timeoutMs": context.get_remaining_time_in_millis()}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Memory": str(context.memory_limit_in_mb)},
        "cookies": ["a=1; Path=/", "b=2; Path=/"],
        "body": json.dumps(body),
    }
"""

# Records every delivery; fails (as a partial batch failure) every message whose body is "poison".
WORKER_HANDLER = """
import json
import os


def handler(event, context):
    with open(os.environ["DELIVERIES"], "a") as out:
        for record in event["Records"]:
            out.write(json.dumps(record) + "\\n")
    return {"batchItemFailures": [
        {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "poison"
    ]}
"""


def write_function(root: Path, name: str, source: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "app.py").write_text(textwrap.dedent(source))


def wait_for(condition: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture
def echo_template(tmp_path: Path) -> Path:
    write_function(tmp_path, "echo", ECHO_HANDLER)
    template = tmp_path / "template.yaml"
    template.write_text(
        textwrap.dedent("""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          EchoFunction:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: echo/
              Handler: app.handler
              Timeout: 7
              MemorySize: 256
              Events:
                Hello:
                  Type: HttpApi
                  Properties:
                    Path: /hello/{name}
                    Method: GET
                Upload:
                  Type: HttpApi
                  Properties:
                    Path: /upload
                    Method: POST
          HookFunction:
            Type: AWS::Serverless::Function
            Metadata: {LocalUrlPath: /hooks/in}
            Properties:
              CodeUri: echo/
              Handler: app.handler
              FunctionUrlConfig: {AuthType: NONE}
        """)
    )
    return template


def test_a_route_added_to_the_template_is_served_with_a_faithful_payload_2_event(
    start_stack: StartStack, echo_template: Path
) -> None:
    stack = start_stack(template_path=echo_template)

    result = client.request(
        "GET",
        f"{stack.url}/hello/ada%20lovelace?tag=a&tag=b&empty=",
        headers={"Cookie": "session=s1; theme=dark", "X-Custom": "Yes", "User-Agent": "e2e"},
    )

    assert result.status == 200
    assert result.headers["x-memory"] == "256"
    event = result.json["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "GET /hello/{name}"
    assert event["rawPath"] == "/hello/ada%20lovelace"
    assert event["pathParameters"] == {"name": "ada lovelace"}
    assert event["rawQueryString"] == "tag=a&tag=b&empty="
    assert event["queryStringParameters"] == {"tag": "a,b", "empty": ""}
    assert event["cookies"] == ["session=s1", "theme=dark"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "Yes"
    assert event["requestContext"]["http"] == {
        "method": "GET",
        "path": "/hello/ada%20lovelace",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "e2e",
    }
    assert "body" not in event
    assert 0 < result.json["timeoutMs"] <= 7000


def test_cookies_returned_by_a_handler_become_set_cookie_headers(start_stack: StartStack, echo_template: Path) -> None:
    stack = start_stack(template_path=echo_template)
    host, port = stack.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/hello/x")
    response = connection.getresponse()
    response.read()
    connection.close()

    assert response.status == 200
    assert response.headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]


def test_a_binary_body_reaches_the_handler_base64_encoded(start_stack: StartStack, echo_template: Path) -> None:
    stack = start_stack(template_path=echo_template)
    payload = bytes(range(256))

    result = client.request(
        "POST", f"{stack.url}/upload", body=payload, headers={"Content-Type": "application/octet-stream"}
    )

    event = result.json["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_a_function_url_gets_the_raw_body_with_routekey_default(start_stack: StartStack, echo_template: Path) -> None:
    stack = start_stack(template_path=echo_template)
    raw = '{"id": "evt_1",  "type": "checkout.session.completed"}'

    result = client.request(
        "POST",
        f"{stack.url}/hooks/in",
        body=raw,
        headers={"Content-Type": "application/json", "Stripe-Signature": "t=1"},
    )

    event = result.json["event"]
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "$default"
    assert event["rawPath"] == "/"
    assert event["body"] == raw  # byte for byte: signatures are computed over it
    assert event["headers"]["stripe-signature"] == "t=1"
    assert "pathParameters" not in event
    assert result.json["function"] == "HookFunction"


@pytest.fixture
def worker_template(tmp_path: Path) -> Path:
    write_function(tmp_path, "worker", WORKER_HANDLER)
    deliveries = tmp_path / "deliveries.jsonl"
    template = tmp_path / "template.yaml"
    template.write_text(
        textwrap.dedent(f"""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          WorkQueue:
            Type: AWS::SQS::Queue
            Properties:
              QueueName: work
              VisibilityTimeout: 1
              RedrivePolicy:
                deadLetterTargetArn: !GetAtt WorkDeadLetterQueue.Arn
                maxReceiveCount: 2
          WorkDeadLetterQueue:
            Type: AWS::SQS::Queue
            Properties:
              QueueName: work-dlq
          WorkerFunction:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: worker/
              Handler: app.handler
              Environment:
                Variables:
                  DELIVERIES: {deliveries}
                  WORK_QUEUE_URL: !Ref WorkQueue
              Events:
                Work:
                  Type: SQS
                  Properties:
                    Queue: !GetAtt WorkQueue.Arn
                    BatchSize: 10
                    FunctionResponseTypes: [ReportBatchItemFailures]
        """)
    )
    return template


def deliveries(template: Path) -> list[dict[str, Any]]:
    path = template.parent / "deliveries.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_sqs_batches_delete_successes_redeliver_failures_and_dead_letter_them(
    start_stack: StartStack, worker_template: Path
) -> None:
    stack = start_stack(template_path=worker_template, serve_http=False)
    assert stack.aws is not None and stack.template is not None
    sqs = stack.aws.sqs()
    queue, dlq = stack.template.queues["WorkQueue"], stack.template.queues["WorkDeadLetterQueue"]
    assert stack.environment["WORK_QUEUE_URL"] == queue.url
    sqs.send_message_batch(
        QueueUrl=queue.url,
        Entries=[
            {"Id": "a", "MessageBody": "a"},
            {"Id": "b", "MessageBody": "b", "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "k"}}},
            {"Id": "p", "MessageBody": "poison"},
        ],
    )

    dead = wait_for(
        lambda: sqs.receive_message(QueueUrl=dlq.url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]).get(
            "Messages"
        )
    )

    assert [m["Body"] for m in dead] == ["poison"]
    seen = deliveries(worker_template)
    assert sorted(r["body"] for r in seen) == ["a", "b", "poison", "poison"]  # successes once, the failure twice
    assert [int(r["attributes"]["ApproximateReceiveCount"]) for r in seen if r["body"] == "poison"] == [1, 2]
    remaining = sqs.get_queue_attributes(
        QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert remaining == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


# Records when each invocation ran and how many records it got; takes a while, as a report does.
SLOW_HANDLER = """
import json
import os
import time


def handler(event, context):
    started = time.monotonic()
    time.sleep(0.4)
    with open(os.environ["DELIVERIES"], "a") as out:
        out.write(json.dumps({"records": len(event["Records"]), "start": started, "end": time.monotonic()}) + "\\n")
    return {"batchItemFailures": []}
"""


def test_sqs_batch_size_and_maximum_concurrency_are_honoured(start_stack: StartStack, tmp_path: Path) -> None:
    write_function(tmp_path, "slow", SLOW_HANDLER)
    template = tmp_path / "template.yaml"
    template.write_text(
        textwrap.dedent(f"""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          WorkQueue:
            Type: AWS::SQS::Queue
          SlowFunction:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: slow/
              Handler: app.handler
              Environment: {{Variables: {{DELIVERIES: {tmp_path / "deliveries.jsonl"}}}}}
              Events:
                Work:
                  Type: SQS
                  Properties:
                    Queue: !GetAtt WorkQueue.Arn
                    BatchSize: 1
                    ScalingConfig: {{MaximumConcurrency: 2}}
                    FunctionResponseTypes: [ReportBatchItemFailures]
        """)
    )
    stack = start_stack(template_path=template, serve_http=False)
    assert stack.aws is not None and stack.template is not None
    url = stack.template.queues["WorkQueue"].url
    stack.aws.sqs().send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "job"} for n in range(6)])

    runs = wait_for(lambda: len(found := deliveries(template)) == 6 and found)

    assert [run["records"] for run in runs] == [1] * 6  # one record per invocation
    edges = sorted([(run["start"], 1) for run in runs] + [(run["end"], -1) for run in runs])
    running = [sum(change for _, change in edges[: n + 1]) for n in range(len(edges))]
    assert max(running) == 2  # at most MaximumConcurrency at once, and it does run that many


def test_sqs_records_look_like_what_lambda_delivers(start_stack: StartStack, worker_template: Path) -> None:
    stack = start_stack(template_path=worker_template, serve_http=False)
    assert stack.aws is not None and stack.template is not None
    queue = stack.template.queues["WorkQueue"]
    stack.aws.sqs().send_message(
        QueueUrl=queue.url,
        MessageBody='{"reckoningId": "r1"}',
        MessageAttributes={
            "reason": {"DataType": "String", "StringValue": "payment"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )

    (record,) = wait_for(lambda: deliveries(worker_template))

    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue.arn == f"arn:aws:sqs:{stack.template.region}:123456789012:work"
    assert record["awsRegion"] == stack.template.region
    assert record["body"] == '{"reckoningId": "r1"}'
    assert record["messageId"] and record["receiptHandle"] and record["md5OfBody"]
    assert {"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["reason"] == {
        "stringValue": "payment",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert base64.b64decode(record["messageAttributes"]["blob"]["binaryValue"]) == b"\x00\x01"


def test_invoke_runs_one_function_with_one_event_and_restores_the_environment(
    database_url: str, worker_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    before = dict(os.environ)
    options = StackOptions(template_path=worker_template, state_dir=tmp_path / "state")

    response = invoke("worker", {"Records": [{"messageId": "m1", "body": "poison"}]}, options)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert dict(os.environ) == before


def test_a_rate_schedule_invokes_with_a_scheduled_event_until_stopped() -> None:
    events: list[Any] = []
    delivered = threading.Event()

    def invoke(event: Any) -> None:
        events.append(event)
        if len(events) >= 2:
            delivered.set()

    runner = ScheduleRunner("Sweeper", Schedule("Every", "rate(1 minute)", period_s=0.05), invoke, region="eu-west-1")
    runner.start()
    assert delivered.wait(5)
    runner.stop()
    runner.join(5)
    count_after_stop = len(events)
    time.sleep(0.15)

    assert len(events) == count_after_stop
    assert events[0]["detail-type"] == "Scheduled Event"
    assert events[0]["source"] == "aws.scheduler"
    assert events[0]["resources"] == ["arn:aws:scheduler:eu-west-1:123456789012:schedule/default/Sweeper-Every"]


def test_s3_objects_survive_a_restart_of_the_stack_and_deleted_ones_do_not(
    start_stack: StartStack, tmp_path: Path
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        textwrap.dedent("""
        Resources:
          Reports:
            Type: AWS::S3::Bucket
            Properties:
              BucketName: !Sub reports-${AWS::AccountId}
        """)
    )
    first = start_stack(template_path=template, serve_http=False)
    assert first.aws is not None
    first.aws.s3().put_object(Bucket="reports-123456789012", Key="pdf/r1.pdf", Body=b"%PDF-1.7")
    first.stop()

    second = start_stack(template_path=template, serve_http=False)
    assert second.aws is not None

    stored = second.aws.s3().get_object(Bucket="reports-123456789012", Key="pdf/r1.pdf")["Body"].read()
    assert stored == b"%PDF-1.7"
    assert (tmp_path / "state" / "s3" / "reports-123456789012" / "pdf" / "r1.pdf").read_bytes() == b"%PDF-1.7"

    # Deleted (e.g. erased) objects leave the state folder too, and do not come back at the next start.
    second.aws.s3().delete_object(Bucket="reports-123456789012", Key="pdf/r1.pdf")
    second.stop()
    assert not (tmp_path / "state" / "s3" / "reports-123456789012" / "pdf" / "r1.pdf").exists()
    third = start_stack(template_path=template, serve_http=False)
    assert third.aws is not None
    assert "Contents" not in third.aws.s3().list_objects_v2(Bucket="reports-123456789012")
