"""The report queue's messages: what is written, what is read, and what is refused."""

from __future__ import annotations

import json
from uuid import UUID

import pytest
from pydantic import ValidationError

from reckoning.models.job import GenerateJob, LinksJob, read_job

RID = UUID("0b9e3c1e-7a52-4c1f-9a8e-5d2f6c4b1a90")


def test_a_job_reads_back_as_written() -> None:
    for job in (GenerateJob(reckoning_id=RID, reason="retry"), LinksJob(reckoning_id=RID, request_id="links:ab:1")):
        body = json.dumps(job.model_dump(mode="json", by_alias=True))
        assert read_job(body) == job


def test_generate_and_links_jobs_say_their_kind() -> None:
    assert GenerateJob(reckoning_id=RID).model_dump(mode="json", by_alias=True) == {
        "kind": "generate",
        "reckoningId": str(RID),
        "reason": "payment",
    }
    assert LinksJob(reckoning_id=RID, request_id="k").model_dump(mode="json", by_alias=True) == {
        "kind": "links",
        "reckoningId": str(RID),
        "requestId": "k",
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"reckoningId": str(RID), "reason": "payment"}, GenerateJob(reckoning_id=RID, reason="payment")),
        ({"reckoningId": str(RID), "reason": "retry"}, GenerateJob(reckoning_id=RID, reason="retry")),
        ({"reckoningId": str(RID)}, GenerateJob(reckoning_id=RID)),
        ({"reckoningId": str(RID), "reason": "links", "requestId": "k"}, LinksJob(reckoning_id=RID, request_id="k")),
    ],
)
def test_messages_queued_before_jobs_had_a_kind_still_read(body: dict[str, str], expected: object) -> None:
    assert read_job(json.dumps(body)) == expected


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"reckoningId": "nope"}),
        json.dumps({"other": 1}),
        json.dumps({"kind": "erase", "reckoningId": str(RID)}),
        json.dumps({"kind": "generate", "reckoningId": str(RID), "reason": "links"}),
        json.dumps({"kind": "links", "reckoningId": str(RID)}),  # which request?
        json.dumps({"kind": "links", "reckoningId": str(RID), "requestId": "k", "reason": "retry"}),
        json.dumps({"kind": "generate", "reckoningId": str(RID), "extra": True}),
        json.dumps({"kind": "links", "reckoningId": str(RID), "requestId": "k" * 201}),
    ],
)
def test_anything_else_is_refused(body: str) -> None:
    with pytest.raises(ValidationError):
        read_job(body)
