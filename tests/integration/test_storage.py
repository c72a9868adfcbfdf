"""The report store against moto's S3 server: write-once PDFs and short-lived download links."""

from __future__ import annotations

import urllib.request
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from reckoning.errors import TransientFailure
from reckoning.providers import aws
from tests.helpers import bucket_store

PDF = b"%PDF-1.7\n% first rendering\n%%EOF\n"


def test_the_pdf_key_names_the_reckoning_and_the_version() -> None:
    reckoning_id = uuid.UUID("8c2b8f0e-4c1d-4a57-9d0e-6f1f2b3c4d5e")

    assert bucket_store().pdf_key(reckoning_id, 2) == "reports/8c2b8f0e-4c1d-4a57-9d0e-6f1f2b3c4d5e/v2.pdf"
    with pytest.raises(ValueError, match="versions start at 1"):
        bucket_store().pdf_key(reckoning_id, 0)


def test_a_pdf_is_written_once_and_never_overwritten(report_bucket: str) -> None:
    key = bucket_store().pdf_key(uuid.uuid4(), 1)
    assert not bucket_store().exists(key)

    first = bucket_store().put_pdf_if_absent(key, PDF)
    second = bucket_store().put_pdf_if_absent(key, b"%PDF-1.7\n% a different rendering\n")

    assert (first, second) == (True, False)
    assert bucket_store().exists(key)
    stored = aws.s3().get_object(Bucket=report_bucket, Key=key)
    assert stored["Body"].read() == PDF
    assert stored["ContentType"] == "application/pdf"
    assert stored["ServerSideEncryption"] == "AES256"


def test_the_download_link_fetches_the_pdf_as_an_attachment_and_expires_within_five_minutes(report_bucket: str) -> None:
    key = bucket_store().pdf_key(uuid.uuid4(), 1)
    bucket_store().put_pdf_if_absent(key, PDF)

    url = bucket_store().presigned_pdf_url(key, ttl_s=3600)

    query = parse_qs(urlsplit(url).query)
    assert 0 < int(query["X-Amz-Expires"][0]) <= 300
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a loopback moto URL
        assert response.read() == PDF
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"] == 'attachment; filename="reckoning-report.pdf"'


def test_a_short_ttl_is_kept(report_bucket: str) -> None:
    url = bucket_store().presigned_pdf_url(bucket_store().pdf_key(uuid.uuid4(), 1), ttl_s=60)

    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["60"]


def test_a_missing_bucket_is_a_transient_failure_so_the_work_is_retried(moto_server: str) -> None:
    with pytest.raises(TransientFailure, match="NoSuchBucket"):
        bucket_store().put_pdf_if_absent(bucket_store().pdf_key(uuid.uuid4(), 1), PDF)
