"""The response envelope of DESIGN §3: `{success, data}` or `{success: false, error}`."""

from __future__ import annotations

import json
import uuid
from contextvars import ContextVar
from enum import StrEnum
from typing import Any, Literal

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, Field

from reckoning.errors import FieldError

JSON = "application/json"
REQUEST_ID_HEADER = "X-Request-Id"
# The id of the request being answered (API Gateway's requestId), set by `reckoning.http` for each request: every
# error body quotes it, so a person can give support the id the logs carry as their correlation id.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class ErrorCode(StrEnum):
    """Every `error.code` an answer can carry; `reckoning.http.ERROR_TABLE` maps each domain error to one."""

    VALIDATION_ERROR = "VALIDATION_ERROR"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


def current_request_id() -> str:
    """The id of the request being answered; a fresh one outside a request (it is then the answer's own)."""
    return request_id.get() or str(uuid.uuid4())


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: ErrorCode
    message: str
    details: list[ErrorDetail] | None = Field(default=None, description="One entry per invalid field (400 only).")
    requestId: str = Field(description="This request's id, as in the X-Request-Id header: quote it to support.")


class ErrorEnvelope(BaseModel):
    success: Literal[False] = False
    error: ErrorBody


class Envelope[T](BaseModel):
    success: Literal[True] = True
    data: T


def dump(data: BaseModel | dict[str, Any]) -> dict[str, Any]:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def ok(data: BaseModel | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    if isinstance(data, BaseModel):  # pydantic writes a model's JSON itself, far faster than dump + json.dumps
        body = '{"success":true,"data":' + data.model_dump_json(by_alias=True, exclude_none=True) + "}"
    else:
        body = json.dumps({"success": True, "data": data}, separators=(",", ":"), ensure_ascii=False)
    return Response(status_code=status, content_type=JSON, body=body, headers=headers)


def fail(
    status: int,
    code: str,
    message: str,
    details: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """An error answer; its body and its X-Request-Id header carry the id of the request it answers."""
    rid = current_request_id()
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = [{"field": d.field, "message": d.message} for d in details]
    error["requestId"] = rid
    body = json.dumps({"success": False, "error": error}, separators=(",", ":"), ensure_ascii=False)
    return Response(
        status_code=status, content_type=JSON, body=body, headers={**(headers or {}), REQUEST_ID_HEADER: rid}
    )
