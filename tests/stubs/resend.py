"""A Resend API stand-in: `POST /emails` as Resend answers it, with idempotency keys and scripted failures.

The real `resend` SDK talks to it through its base URL. It records each
delivery, answers a repeated `Idempotency-Key` with the first id (no second
delivery), rejects a reused key with a different body (409, as Resend does),
and can be told to fail the next requests the way Resend fails.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from tests.stubs import Reply, Request, StubServer

Failure = Literal["rate_limit", "daily_quota", "monthly_quota", "server_error", "validation", "slow"]

FAILURES: dict[Failure, Reply] = {
    "rate_limit": Reply(
        429,
        {"statusCode": 429, "name": "rate_limit_exceeded", "message": "Too many requests. Please slow down."},
        headers={"retry-after": "1"},
    ),
    "daily_quota": Reply(
        429, {"statusCode": 429, "name": "daily_quota_exceeded", "message": "You have reached your daily quota."}
    ),
    "monthly_quota": Reply(
        429, {"statusCode": 429, "name": "monthly_quota_exceeded", "message": "You have reached your monthly quota."}
    ),
    "server_error": Reply(
        500, {"statusCode": 500, "name": "application_error", "message": "An unexpected error occurred."}
    ),
    "validation": Reply(422, {"statusCode": 422, "name": "validation_error", "message": "Invalid `to` field."}),
    "slow": Reply(200, {"id": "too-late"}, delay_s=3.0),
}


@dataclass(frozen=True)
class Delivery:
    id: str
    sender: str
    to: list[str]
    subject: str
    html: str
    text: str
    idempotency_key: str | None
    authorization: str


class ResendStub:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._failures: list[Failure] = []
        self._by_key: dict[str, tuple[Any, str]] = {}
        self._lock = threading.Lock()
        self.server = StubServer(self._respond)

    @property
    def url(self) -> str:
        return self.server.url

    def reset(self) -> None:
        """Forget deliveries, keys and scripted failures (one stub can serve a whole session)."""
        with self._lock:
            self.deliveries.clear()
            self._failures.clear()
            self._by_key.clear()
            self.server.requests.clear()

    def fail_next(self, failure: Failure, times: int = 1) -> None:
        """Answer the next `times` requests with this failure, then behave again."""
        self._failures.extend([failure] * times)

    def _respond(self, request: Request) -> Reply:
        if (request.method, request.path) != ("POST", "/emails"):
            return Reply(404, {"statusCode": 404, "name": "not_found", "message": "Not found."})
        if not request.headers.get("authorization", "").startswith("Bearer re_"):
            return Reply(401, {"statusCode": 401, "name": "missing_api_key", "message": "Missing API key."})
        with self._lock:  # the server answers on several threads
            if self._failures:
                return FAILURES[self._failures.pop(0)]
            return self._deliver(request)

    def _deliver(self, request: Request) -> Reply:
        body = request.json()
        key = request.headers.get("idempotency-key")
        if key is not None and key in self._by_key:
            first_body, first_id = self._by_key[key]
            if first_body != body:
                return Reply(
                    409,
                    {"statusCode": 409, "name": "invalid_idempotent_request", "message": "Same key, other payload."},
                )
            return Reply(200, {"id": first_id})
        delivery = Delivery(
            id=str(uuid.uuid4()),
            sender=body["from"],
            to=list(body["to"]) if isinstance(body["to"], list) else [body["to"]],
            subject=body["subject"],
            html=body.get("html", ""),
            text=body.get("text", ""),
            idempotency_key=key,
            authorization=request.headers["authorization"],
        )
        if key is not None:
            self._by_key[key] = (body, delivery.id)
        self.deliveries.append(delivery)
        return Reply(200, {"id": delivery.id})


@contextmanager
def running() -> Iterator[ResendStub]:
    stub = ResendStub()
    stub.server.start()
    try:
        yield stub
    finally:
        stub.server.stop()
