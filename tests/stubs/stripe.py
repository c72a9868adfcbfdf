"""A Stripe API stub (Checkout Sessions) and Stripe-signed webhook events built from Stripe's fixtures."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from tests.stubs import Reply, Request, StubServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


# Stripe's own wording where its API reference gives it; the error object is {"error": {type, code?, message, param?}}.
_RATE_LIMITED = {
    "type": "invalid_request_error",
    "code": "rate_limit",
    "message": "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
}
_API_ERROR = {"type": "api_error", "message": "An unknown error occurred"}

# Stripe does not publish its address rule, only that it is stricter than "anything@anything.tld" (it refuses
# `a..b@x.com`). The stub refuses what a plain RFC 5321 address cannot be: a local part that is not dot-separated
# atext (or longer than 64), a domain that is not dot-separated letter/digit/hyphen labels ending in a TLD.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"(?P<local>{_ATEXT}(?:\.{_ATEXT})*)@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}")

# Stripe's template variable in success_url, filled in only when it redirects the browser after payment.
SESSION_ID_VARIABLE = "{CHECKOUT_SESSION_ID}"

# expires_at: "between 30 minutes and 24 hours after" the session's creation.
_MIN_EXPIRY_S, _MAX_EXPIRY_S = 30 * 60, 24 * 3600


@dataclass
class _Saved:
    params: list[tuple[str, str]]
    reply: Reply


class StripeStub:
    """POST /v1/checkout/sessions with the rules Stripe documents.

    - Idempotency: the first result for an Idempotency-Key is saved — a success, or a 500 that happened while
      executing — and every later request with the key gets it again (`Idempotent-Replayed: true`); the key
      with other parameters gets 400 `idempotency_error`. Refusals before execution (validation, 429, a 503
      at the door) are not saved, as Stripe says.
    - Validation: `customer_email` must be a plausible address (400 `invalid_request_error`, code
      `email_invalid`, param `customer_email`; the message quotes the address, as Stripe's can); `expires_at`
      30 minutes to 24 hours ahead; the secret key must be the configured one (401).
    - Switches for a test: `fail_next(status, times)` answers the next creates with that status as Stripe
      would (429 rate limit, 500 saved under the key, 502/503/504 not saved); `delay_s` makes every answer
      that late (the work is done first, as when a response is lost to a client timeout).

    GET /v1/checkout/sessions/{id} and POST /v1/checkout/sessions/{id}/expire keep a session's state: `open`
    until its `expires_at` passes (then `expired`) or the person pays (`pay(id)`: `complete`). "A Checkout
    Session can be expired when it is in one of these statuses: open"; any other gets a 400
    `invalid_request_error`, an unknown id a 404 `resource_missing`.
    """

    def __init__(self, amount: int = 2900, currency: str = "eur", api_key: str = "sk_test_reckoning") -> None:
        self.amount, self.currency, self.api_key = amount, currency, api_key
        self.delay_s = 0.0
        self._failures: list[int] = []
        self._saved: dict[str, _Saved] = {}
        self._sessions: dict[str, dict[str, Any]] = {}  # by id, as they are now
        self._lock = threading.Lock()
        self.server = StubServer(self._respond)

    @property
    def url(self) -> str:
        return self.server.url

    def creates(self) -> list[Request]:
        return self.server.calls("POST", "/v1/checkout/sessions")

    def sessions(self) -> list[dict[str, Any]]:
        """The sessions Stripe created (one per key that succeeded)."""
        with self._lock:
            return [saved.reply.body for saved in self._saved.values() if saved.reply.status == 200]

    def session(self, session_id: str) -> dict[str, Any]:
        """The session as Stripe holds it now."""
        with self._lock:
            return _current(self._sessions[session_id])

    def pay(self, session_id: str, payment_intent: str) -> str:
        """The person completes the session's payment on Stripe's page (only an open session can be paid).

        Returns where Stripe then sends the browser: the session's `success_url` with the `{CHECKOUT_SESSION_ID}`
        template variable ("a literal string", never substituted by the caller) replaced by the session's id.
        """
        with self._lock:
            session = self._sessions[session_id]
            if _current(session)["status"] != "open":
                raise ValueError(f"a {_current(session)['status']} session cannot be paid")
            session.update(status="complete", payment_status="paid", payment_intent=payment_intent)
            return str(session["success_url"]).replace(SESSION_ID_VARIABLE, session_id)

    def lapse(self, session_id: str) -> None:
        """The session's `expires_at` passes (Stripe expires it)."""
        with self._lock:
            self._sessions[session_id]["expires_at"] = int(time.time()) - 1

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def _respond(self, request: Request) -> Reply:
        reply = self._answer(request)
        reply.delay_s = self.delay_s
        return reply

    def _answer(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, {"type": "invalid_request_error", "message": "Invalid API Key provided"})
        found = _SESSION_PATH.fullmatch(request.path)
        if found and (request.method, found["action"]) in {("GET", None), ("POST", "/expire")}:
            return self._existing(found["id"], expire=found["action"] is not None)
        if request.path != "/v1/checkout/sessions" or request.method != "POST":
            return _error(404, {"type": "invalid_request_error", "message": "Unrecognized request URL"})
        params = sorted(parse_qsl(request.body.decode(), keep_blank_values=True))
        key = request.headers.get("idempotency-key", str(uuid.uuid4()))
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
            if failure is not None and failure != 500:  # refused at the door: before idempotency, not saved
                return _error(failure, _RATE_LIMITED if failure == 429 else _API_ERROR)
            saved = self._saved.get(key)
            if saved is not None:
                return _replay(saved, key, params)
            refused = _invalid(request.form())
            if refused is not None:
                return refused
            reply = _error(500, _API_ERROR) if failure == 500 else Reply(200, self._session(request.form()))
            self._saved[key] = _Saved(params, copy.deepcopy(reply))
            if reply.status == 200:
                self._sessions[reply.body["id"]] = copy.deepcopy(reply.body)
            return reply

    def _existing(self, session_id: str, *, expire: bool) -> Reply:
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                missing = {"type": "invalid_request_error", "code": "resource_missing", "param": "session"}
                return _error(404, {**missing, "message": f"No such checkout.session: '{session_id}'"})
            if expire:
                if _current(session)["status"] != "open":
                    # Stripe documents the rule (only an open session), not its wording.
                    message = "Only Checkout Sessions with a status of open can be expired."
                    return _error(400, {"type": "invalid_request_error", "message": message})
                session["status"] = "expired"
            return Reply(200, _current(session))

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
            # Kept as sent, template variable and all: Stripe substitutes it only in the redirect.
            success_url=form["success_url"][0],
            cancel_url=form["cancel_url"][0] if form.get("cancel_url") else None,
            payment_status="unpaid",
            status="open",
            payment_intent=None,
        )
        return session


_SESSION_PATH = re.compile(r"/v1/checkout/sessions/(?P<id>cs_[A-Za-z0-9_]+)(?P<action>/expire)?")


def _current(session: dict[str, Any]) -> dict[str, Any]:
    """An open session whose expires_at has passed is expired (Stripe expires it then)."""
    if session["status"] == "open" and session["expires_at"] <= time.time():
        session["status"] = "expired"
    return copy.deepcopy(session)


def _error(status: int, error: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {**error, "request_log_url": None}}, {"request-id": "req_stub", **(headers or {})})


def _replay(saved: _Saved, key: str, params: list[tuple[str, str]]) -> Reply:
    if saved.params != params:
        message = (
            "Keys for idempotent requests can only be used with the same parameters they were first used with. "
            f"Try using a key other than '{key}' if you meant to execute a different request."
        )
        return _error(400, {"type": "idempotency_error", "message": message})
    return Reply(saved.reply.status, saved.reply.body, {**saved.reply.headers, "idempotent-replayed": "true"})


def _invalid(form: dict[str, list[str]]) -> Reply | None:
    email = form.get("customer_email", [""])[0]
    match = _EMAIL.fullmatch(email)
    if email and (match is None or len(match["local"]) > 64 or len(email) > 254):
        invalid = {"type": "invalid_request_error", "code": "email_invalid", "param": "customer_email"}
        return _error(400, {**invalid, "message": f"Invalid email address: {email}"})
    expires_at = int(form.get("expires_at", ["0"])[0] or 0)
    if expires_at and not _MIN_EXPIRY_S <= expires_at - time.time() <= _MAX_EXPIRY_S:
        message = "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation."
        return _error(400, {"type": "invalid_request_error", "param": "expires_at", "message": message})
    for required in ("mode", "success_url"):
        if not form.get(required):
            message = f"Missing required param: {required}."
            return _error(
                400,
                {"type": "invalid_request_error", "code": "parameter_missing", "param": required, "message": message},
            )
    return None


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
