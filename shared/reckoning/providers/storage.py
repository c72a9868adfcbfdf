"""The report store (S3): write-once PDFs and short-lived download links.

A PDF is rendered once per report version and never overwritten, so a
redelivered message cannot replace the file a person may be downloading.
Every S3 failure here is infrastructure (our keys, our bucket), so it is
reported as transient: SQS redelivers, and a dead-letter queue keeps what a
fix can replay.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from uuid import UUID

from reckoning.config import settings
from reckoning.errors import TransientFailure
from reckoning.providers import aws

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

MAX_URL_TTL_S = 300
PDF_CONTENT_TYPE = "application/pdf"
DEFAULT_FILENAME = "reckoning-report.pdf"


def pdf_key(reckoning_id: UUID, version: int) -> str:
    """Where the PDF of one report version lives: `reports/<reckoning id>/v<version>.pdf`."""
    if version < 1:
        raise ValueError("report versions start at 1")
    return f"reports/{reckoning_id}/v{version}.pdf"


def exists(key: str) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        aws.s3().head_object(Bucket=settings().report_bucket, Key=key)
    except ClientError as exc:
        if _status(exc) == 404:
            return False
        raise TransientFailure(f"S3 head_object: {_code(exc)}") from exc
    except BotoCoreError as exc:
        raise TransientFailure(f"S3 head_object: {type(exc).__name__}") from exc
    return True


def put_pdf_if_absent(key: str, data: bytes) -> bool:
    """Upload the PDF unless the key already holds one; True when this call wrote it.

    A conditional write (`If-None-Match: *`) makes the check and the write one
    step, so two workers racing on the same report cannot both write.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        aws.s3().put_object(
            Bucket=settings().report_bucket,
            Key=key,
            Body=data,
            ContentType=PDF_CONTENT_TYPE,
            ServerSideEncryption="AES256",
            IfNoneMatch="*",
        )
    except ClientError as exc:
        if _status(exc) == 412:
            return False  # already there (possibly from our own earlier, retried attempt)
        # 409 ConditionalRequestConflict: another upload of the key is in flight; retry later.
        raise TransientFailure(f"S3 put_object: {_code(exc)}") from exc
    except BotoCoreError as exc:
        raise TransientFailure(f"S3 put_object: {type(exc).__name__}") from exc
    return True


def delete_reckoning(reckoning_id: UUID) -> int:
    """Delete every stored object of the reckoning (`reports/<id>/`: each report version's PDF), and every
    version of each should the bucket keep versions; how many objects went."""
    from botocore.exceptions import BotoCoreError, ClientError

    s3, bucket, deleted = aws.s3(), settings().report_bucket, 0
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=f"reports/{reckoning_id}/"):
            found = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            if not found:
                continue
            items = [{"Key": item["Key"], "VersionId": item["VersionId"]} for item in found]
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": items, "Quiet": True})  # type: ignore[typeddict-item]
            if answer.get("Errors"):
                raise TransientFailure(f"S3 delete_objects: {answer['Errors'][0].get('Code', 'unknown')}")
            deleted += len(page.get("Versions", []))
    except ClientError as exc:
        raise TransientFailure(f"S3 delete: {_code(exc)}") from exc
    except BotoCoreError as exc:
        raise TransientFailure(f"S3 delete: {type(exc).__name__}") from exc
    return deleted


def presigned_pdf_url(key: str, ttl_s: int, filename: str = DEFAULT_FILENAME) -> str:
    """A GET link to the PDF valid for at most five minutes, served as a download named `filename`."""
    expires_in = max(1, min(ttl_s, MAX_URL_TTL_S))
    return aws.s3().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings().report_bucket,
            "Key": key,
            "ResponseContentType": PDF_CONTENT_TYPE,
            "ResponseContentDisposition": f'attachment; filename="{safe_filename(filename)}"',
        },
        ExpiresIn=expires_in,
    )


def safe_filename(name: str) -> str:
    """An ASCII file name that cannot break out of a Content-Disposition header."""
    stem = name.removesuffix(".pdf")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-")[:80]
    return f"{stem or DEFAULT_FILENAME.removesuffix('.pdf')}.pdf"


def _status(exc: ClientError) -> int | None:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))
