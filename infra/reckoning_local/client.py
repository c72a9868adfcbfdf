"""A tiny JSON-over-HTTP client for the demo and the end-to-end tests (standard library only)."""

from __future__ import annotations

import http.client
import json
from contextlib import closing
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class HttpResult:
    status: int
    headers: dict[str, str]  # lower-cased names
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)

    @property
    def data(self) -> Any:
        """`data` of a success envelope."""
        return self.json["data"]

    @property
    def error(self) -> Any:
        """`error` of a failure envelope."""
        return self.json["error"]


def request(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 30.0,
) -> HttpResult:
    """One request on a fresh connection; `json_body` is sent as application/json."""
    target = urlsplit(url)
    all_headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body)
        all_headers.setdefault("Content-Type", "application/json")
    path = target.path + (f"?{target.query}" if target.query else "")
    connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=timeout_s)
    with closing(connection):
        connection.request(method, path or "/", body=body, headers=all_headers)
        response = connection.getresponse()
        return HttpResult(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
