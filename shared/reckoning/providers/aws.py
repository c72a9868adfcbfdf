"""boto3 clients, created lazily once per process (never at import: tests start moto first)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from reckoning.config import settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


def _client(service: str, signature_version: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    s = settings()
    config = Config(
        connect_timeout=3,
        read_timeout=10,
        retries={"max_attempts": 3, "mode": "standard"},
        signature_version=signature_version,
    )
    return boto3.client(  # type: ignore[call-overload]  # the stubs only type literal service names
        service, region_name=s.aws_region, endpoint_url=s.aws_endpoint_url, config=config
    )


@cache
def s3() -> S3Client:
    # SigV4 explicitly: botocore still presigns S3 URLs with the legacy SigV2 otherwise.
    client: S3Client = _client("s3", signature_version="s3v4")
    return client


@cache
def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def reset() -> None:
    """Forget clients (tests switch endpoints)."""
    s3.cache_clear()
    sqs.cache_clear()
