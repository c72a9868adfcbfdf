"""boto3 clients, created lazily once per process (never at import: tests start moto first)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from reckoning.config import settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


def _client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    s = settings()
    config = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
    return boto3.client(service, region_name=s.aws_region, endpoint_url=s.aws_endpoint_url, config=config)


@cache
def s3() -> S3Client:
    client: S3Client = _client("s3")
    return client


@cache
def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def reset() -> None:
    """Forget clients (tests switch endpoints)."""
    s3.cache_clear()
    sqs.cache_clear()
