"""The report queue's messages: what the outbox sends and the generation worker reads."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, model_validator


class _Job(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    reckoning_id: UUID = Field(alias="reckoningId")


class GenerateJob(_Job):
    """Write the report of a reckoning: after its payment, or again when on-call asks."""

    kind: Literal["generate"] = "generate"
    reason: Literal["payment", "retry"] = "payment"


class LinksJob(_Job):
    """Email fresh links to every paid reckoning of this reckoning's address, once per request."""

    kind: Literal["links"] = "links"
    request_id: str = Field(alias="requestId", max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _reason(cls, data: Any) -> Any:  # queued before jobs had a kind, a links job said so in its reason
        legacy = isinstance(data, dict) and data.get("reason") == "links"
        return {k: v for k, v in data.items() if k != "reason"} if legacy else data


type Job = GenerateJob | LinksJob


def _kind(data: Any) -> str:
    if isinstance(data, dict):  # a message queued before jobs had a kind: {"reckoningId", "reason"[, "requestId"]}
        return str(data.get("kind") or ("links" if data.get("reason") == "links" else "generate"))
    return str(getattr(data, "kind", ""))


_JOB: TypeAdapter[Job] = TypeAdapter(
    Annotated[Annotated[GenerateJob, Tag("generate")] | Annotated[LinksJob, Tag("links")], Discriminator(_kind)]
)


def wire(job: Job) -> dict[str, Any]:
    """The job as its queue message body: the one place a job is serialised."""
    return job.model_dump(mode="json", by_alias=True)


def links_job_without_reckoning(request_id: str) -> dict[str, Any]:
    """A links job's body but for `reckoningId`, which the outbox statement adds: the address's reckoning."""
    return {"kind": "links", "requestId": request_id}


def read_job(body: str | bytes | dict[str, Any]) -> Job:
    """A queue message body as a job (pydantic's ValidationError when it is not one)."""
    return _JOB.validate_python(body) if isinstance(body, dict) else _JOB.validate_json(body)
