"""boto3 clients, created lazily once per process and endpoint (never at import: tests start moto first)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from reckoning.config import settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


@cache  # keyed by where the client talks to: a changed endpoint (moto in tests) gets a client of its own
def _client(service: str, region: str, endpoint_url: str | None, signature_version: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=3,
        read_timeout=10,
        retries={"max_attempts": 3, "mode": "standard"},
        signature_version=signature_version,
    )
    return boto3.client(  # type: ignore[call-overload]  # the stubs only type literal service names
        service, region_name=region, endpoint_url=endpoint_url, config=config
    )


def s3() -> S3Client:
    s = settings()
    # SigV4 explicitly: botocore still presigns S3 URLs with the legacy SigV2 otherwise.
    client: S3Client = _client("s3", s.aws_region, s.aws_endpoint_url, "s3v4")
    return client


def sqs() -> SQSClient:
    s = settings()
    client: SQSClient = _client("sqs", s.aws_region, s.aws_endpoint_url)
    return client
