"""Integration fixtures: AWS through moto's server mode (real HTTP, like the local stack)."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator

import pytest

from reckoning import config
from reckoning.providers import aws
from tests.helpers import Env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def _moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def moto_server(_moto_endpoint: str, env: Env) -> Iterator[str]:
    """A moto server (shared by the session, emptied for each test); settings and boto3 point at it."""
    request = urllib.request.Request(f"{_moto_endpoint}/moto-api/reset", method="POST")  # noqa: S310 - loopback
    urllib.request.urlopen(request).close()  # noqa: S310
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env(AWS_ENDPOINT_URL=_moto_endpoint, AWS_REGION="eu-west-1", AWS_DEFAULT_REGION="eu-west-1", **credentials)
    yield _moto_endpoint


@pytest.fixture
def report_queue(moto_server: str, env: Env) -> str:
    """The report queue (with its dead-letter queue) created in moto; REPORT_QUEUE_URL points at it."""
    sqs = aws.sqs()
    dlq_url = sqs.create_queue(QueueName="reckoning-reports-dlq-test")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName="reckoning-reports-test",
        Attributes={"RedrivePolicy": f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}'},
    )["QueueUrl"]
    env(REPORT_QUEUE_URL=url)
    return url


@pytest.fixture
def report_bucket(moto_server: str) -> str:
    """The report bucket (settings().report_bucket) created in moto's eu-west-1, empty."""
    name = config.settings().report_bucket
    aws.s3().create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return name
