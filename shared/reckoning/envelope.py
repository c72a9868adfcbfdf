"""The response envelope of DESIGN §3: `{success, data}` or `{success: false, error}`."""

from __future__ import annotations

import json
from typing import Any, Literal

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from reckoning.errors import FieldError

JSON = "application/json"


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] | None = None


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
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = [{"field": d.field, "message": d.message} for d in details]
    body = json.dumps({"success": False, "error": error}, separators=(",", ":"), ensure_ascii=False)
    return Response(status_code=status, content_type=JSON, body=body, headers=headers)
