"""The report store (S3): write-once PDFs and short-lived download links.

A PDF is rendered once per report version and never overwritten, so a
redelivered message cannot replace the file a person may be downloading.
Every S3 failure here is infrastructure (our keys, our bucket), so it is
reported as transient: SQS redelivers, and a dead-letter queue keeps what a
fix can replay.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from reckoning.errors import TransientFailure
from reckoning.observability import TRACE
from reckoning.providers import aws

MAX_URL_TTL_S = 300
PDF_CONTENT_TYPE = "application/pdf"


class S3Store:
    """The report bucket: one prefix per reckoning, `reports/<reckoning id>/v<version>.pdf`."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def pdf_key(self, reckoning_id: UUID, version: int) -> str:
        """Where the PDF of one report version lives."""
        if version < 1:
            raise ValueError("report versions start at 1")
        return f"reports/{reckoning_id}/v{version}.pdf"

    @TRACE
    def exists(self, key: str) -> bool:
        return _unless(404, "head_object", Bucket=self.bucket, Key=key)

    @TRACE
    def put_pdf_if_absent(self, key: str, data: bytes) -> bool:
        """Upload the PDF unless the key already holds one; True when this call wrote it.

        A conditional write (`If-None-Match: *`) makes the check and the write one
        step, so two workers racing on the same report cannot both write. A 412 means
        it is already there (possibly from our own earlier, retried attempt); a 409
        ConditionalRequestConflict, that another upload of the key is in flight: retry later.
        """
        params: dict[str, Any] = {"ContentType": PDF_CONTENT_TYPE, "ServerSideEncryption": "AES256", "IfNoneMatch": "*"}
        return _unless(412, "put_object", Bucket=self.bucket, Key=key, Body=data, **params)

    @TRACE
    def delete_reckoning(self, reckoning_id: UUID) -> int:
        """Delete every stored object of the reckoning (`reports/<id>/`: each report version's PDF), and every
        version of each should the bucket keep versions; how many objects went."""
        s3, deleted = aws.s3(), 0
        with _transient("delete_objects"):
            pages = s3.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=f"reports/{reckoning_id}/"
            )
            for page in pages:
                found = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                if not found:
                    continue
                items = [{"Key": item["Key"], "VersionId": item["VersionId"]} for item in found]
                answer = s3.delete_objects(Bucket=self.bucket, Delete={"Objects": items, "Quiet": True})  # type: ignore[typeddict-item]
                if answer.get("Errors"):
                    raise TransientFailure(f"S3 delete_objects: {answer['Errors'][0].get('Code', 'unknown')}")
                deleted += len(page.get("Versions", []))
        return deleted

    @TRACE
    def presigned_pdf_url(self, key: str, ttl_s: int) -> str:
        """A GET link to the PDF valid for at most five minutes, served as a download named `reckoning-report.pdf`."""
        expires_in = max(1, min(ttl_s, MAX_URL_TTL_S))
        return aws.s3().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": PDF_CONTENT_TYPE,
                "ResponseContentDisposition": 'attachment; filename="reckoning-report.pdf"',
            },
            ExpiresIn=expires_in,
        )


def _unless(status: int, operation: str, **params: Any) -> bool:
    """Call an S3 operation: True when it succeeds, False when S3 answers `status`, else TransientFailure."""
    from botocore.exceptions import ClientError

    with _transient(operation):
        try:
            getattr(aws.s3(), operation)(**params)
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == status:
                return False
            raise
    return True


@contextmanager
def _transient(operation: str) -> Iterator[None]:
    """S3 failing us is ours to retry: TransientFailure, naming the operation and S3's error code."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        raise TransientFailure(f"S3 {operation}: {exc.response.get('Error', {}).get('Code', 'unknown')}") from exc
    except BotoCoreError as exc:
        raise TransientFailure(f"S3 {operation}: {type(exc).__name__}") from exc
