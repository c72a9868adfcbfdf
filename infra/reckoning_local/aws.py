"""A local AWS endpoint: moto in server mode, in this process, with the template's queues and buckets.

moto's server applies a queue's RedrivePolicy on receive (a message received
`maxReceiveCount` times moves to the dead-letter queue instead of being
delivered again), so the SQS behaviour the template declares is the one that
runs. Objects in S3 live in memory; `save_objects`/`load_objects` keep them
under the state directory between runs.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reckoning_local.template import Queue, Template

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

log = logging.getLogger("reckoning_local")

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto accepts anything; nothing reaches real AWS
}


class LocalAws:
    """moto's server on 127.0.0.1 (a free port), and boto3 clients for it."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._server: Any = None
        self.endpoint_url = ""

    def start(self) -> str:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per SQS poll otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self._reset()
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _reset(self) -> None:
        # moto's backends are process-wide: start from nothing, whatever ran before in this process.
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")  # noqa: S310 - our own http endpoint
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def sqs(self) -> SQSClient:
        client: SQSClient = self._client("sqs")
        return client

    def s3(self) -> S3Client:
        client: S3Client = self._client("s3")
        return client

    def _client(self, service: str) -> Any:
        import boto3

        return boto3.client(  # type: ignore[call-overload]  # the stubs only type literal service names
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def create_resources(self, template: Template) -> None:
        """Create the template's queues (dead-letter queues first) and buckets."""
        sqs = self.sqs()
        for queue in sorted(template.queues.values(), key=lambda q: q.dead_letter_queue is not None):
            url = sqs.create_queue(QueueName=queue.name, Attributes=queue_attributes(queue, template))["QueueUrl"]
            if url != queue.url:
                log.warning("queue %s is at %s, not at %s as resolved", queue.logical_id, url, queue.url)
        s3 = self.s3()
        for bucket in template.buckets.values():
            if self.region == "us-east-1":  # the one region S3 refuses a location constraint for
                s3.create_bucket(Bucket=bucket.name)
            else:
                location: Any = {"LocationConstraint": self.region}
                s3.create_bucket(Bucket=bucket.name, CreateBucketConfiguration=location)

    def save_objects(self, template: Template, directory: Path) -> None:
        """Write every object of the template's buckets to `directory/<bucket>/<key>`, and remove the files of
        objects deleted since (an erased PDF must not live on here)."""
        s3, saved = self.s3(), set[Path]()
        for bucket in template.buckets.values():
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket.name):
                for item in page.get("Contents", []):
                    target = _object_path(directory, bucket.name, item["Key"])
                    if target is None:
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(s3.get_object(Bucket=bucket.name, Key=item["Key"])["Body"].read())
                    saved.add(target)
            for path in (directory / bucket.name).resolve().rglob("*"):
                if path.is_file() and path not in saved:
                    path.unlink()

    def load_objects(self, template: Template, directory: Path) -> None:
        """Upload what `save_objects` wrote (objects survive a restart of the stack)."""
        s3 = self.s3()
        for bucket in template.buckets.values():
            root = directory / bucket.name
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                s3.put_object(Bucket=bucket.name, Key=path.relative_to(root).as_posix(), Body=path.read_bytes())


def queue_attributes(queue: Queue, template: Template) -> dict[QueueAttributeNameType, str]:
    attributes: dict[QueueAttributeNameType, str] = {"VisibilityTimeout": str(queue.visibility_timeout_s)}
    if queue.dead_letter_queue and queue.max_receive_count:
        dlq = template.queues[queue.dead_letter_queue]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": queue.max_receive_count}
        )
    return attributes


def _object_path(directory: Path, bucket: str, key: str) -> Path | None:
    root = (directory / bucket).resolve()
    target = (root / key).resolve()
    # Keys are data: never let one write outside the bucket's folder.
    return target if target.is_relative_to(root) and target != root else None
