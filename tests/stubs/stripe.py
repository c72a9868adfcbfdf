"""A Stripe API stub (Checkout Sessions) and Stripe-signed webhook events built from Stripe's fixtures."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tests.stubs import Reply, Request, StubServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


class StripeStub:
    """POST /v1/checkout/sessions like Stripe: form-encoded, idempotent per Idempotency-Key."""

    def __init__(self, amount: int = 2900, currency: str = "eur") -> None:
        self.amount, self.currency = amount, currency
        self._by_key: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.server = StubServer(self._respond)

    @property
    def url(self) -> str:
        return self.server.url

    def creates(self) -> list[Request]:
        return self.server.calls("POST", "/v1/checkout/sessions")

    def _respond(self, request: Request) -> Reply:
        if request.path != "/v1/checkout/sessions" or request.method != "POST":
            return Reply(404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}})
        key = request.headers.get("idempotency-key", str(uuid.uuid4()))
        with self._lock:
            if key not in self._by_key:
                self._by_key[key] = self._session(request.form())
            return Reply(200, self._by_key[key])

    def _session(self, form: dict[str, list[str]]) -> dict[str, Any]:
        session = fixture("checkout_session")
        session_id = "cs_test_" + uuid.uuid4().hex
        session.update(
            id=session_id,
            url=f"https://checkout.stripe.com/c/pay/{session_id}",
            amount_total=self.amount,
            amount_subtotal=self.amount,
            currency=self.currency,
            client_reference_id=form["client_reference_id"][0],
            customer_email=form["customer_email"][0],
            metadata={"reckoning_id": form["metadata[reckoning_id]"][0]},
            expires_at=int(form["expires_at"][0]),
            payment_status="unpaid",
            status="open",
            payment_intent=None,
        )
        return session


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Stripe's scheme, written independently of the SDK: HMAC-SHA256 over "{t}.{body}"."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def session_event(
    event_type: str,
    session_id: str,
    reckoning_id: str,
    *,
    amount: int = 2900,
    currency: str = "eur",
    payment_status: str = "paid",
    payment_intent: str | None = "pi_test_1",
    event_id: str | None = None,
) -> dict[str, Any]:
    event = fixture("event")
    session = fixture("checkout_session")
    session.update(
        id=session_id,
        amount_total=amount,
        currency=currency,
        client_reference_id=reckoning_id,
        metadata={"reckoning_id": reckoning_id},
        payment_status=payment_status,
        status="complete" if event_type != "checkout.session.expired" else "expired",
        payment_intent=payment_intent,
    )
    event.update(
        id=event_id or "evt_" + uuid.uuid4().hex,
        type=event_type,
        created=int(time.time()),
        data={"object": session},
    )
    return event


def refund_event(payment_intent: str, *, refunded: bool = True, amount: int = 2900) -> dict[str, Any]:
    event = fixture("event")
    charge = copy.deepcopy(fixture("charge"))
    charge.update(
        payment_intent=payment_intent, amount=amount, amount_refunded=amount if refunded else 1, refunded=refunded
    )
    event.update(
        id="evt_" + uuid.uuid4().hex, type="charge.refunded", created=int(time.time()), data={"object": charge}
    )
    return event
