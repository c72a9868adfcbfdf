"""The offline Stripe Checkout page (used when STRIPE_SECRET_KEY is not set).

`GET /_local/checkout/<session>?state=…` shows the amount and a Pay button; paying
sends a `checkout.session.completed` event, signed with STRIPE_WEBHOOK_SECRET by
Stripe's scheme, to the local webhook over HTTP — exactly as Stripe would — then
sends the browser to the session's `success_url` with Stripe's `{CHECKOUT_SESSION_ID}`
template variable replaced by the session id; its back link goes to `cancel_url`.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

from reckoning.config import DEV_WEBHOOK_SECRET
from reckoning_local import client
from reckoning_local.server import Page, PageRequest, Response

PATH = re.compile(r"/_local/checkout/(?P<session>cs_test_local_[0-9a-f]{40})")
WEBHOOK_PATH = "/webhooks/stripe"
# Stripe's template variable in a success URL: "a literal string", replaced after payment by the session's id.
SESSION_ID_VARIABLE = "{CHECKOUT_SESSION_ID}"


def success_redirect(success_url: str, session_id: str) -> str:
    """Where Stripe sends the browser after payment: the success URL with its template variable filled in."""
    return success_url.replace(SESSION_ID_VARIABLE, session_id)


def _state(request: PageRequest) -> dict[str, Any]:
    encoded = parse_qs(request.request.query).get("state", [""])[0]
    state: dict[str, Any] = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    if state.get("id") != request.match["session"]:
        raise ValueError("state does not belong to this session")
    return state


def _page(title: str, body: str, status: int = 200) -> Response:
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=referrer content=no-referrer>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        "<title>Reckoning checkout (local)</title>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}"
        "<p>Local stand-in for Stripe Checkout: no money moves.</p></main></body></html>"
    )
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]
    return Response(status, headers, page.encode())


def show(request: PageRequest) -> Response:
    try:
        state = _state(request)
    except (ValueError, KeyError):
        return _page("Unknown checkout session", "<p>This link is not valid.</p>", 404)
    amount = f"{state['amount_total'] / 100:.2f} {state['currency'].upper()}"
    form = (
        f"<p>Your Reckoning report: <strong>{html.escape(amount)}</strong></p>"
        f"<form method=post action='{html.escape(request.request.path)}?{html.escape(request.request.query)}'>"
        "<button type=submit>Pay</button></form>"
        f"<p><a href='{html.escape(state['cancel_url'])}'>Cancel and go back</a></p>"
    )
    return _page("Checkout", form)


def pay(request: PageRequest) -> Response:
    try:
        state = _state(request)
    except (ValueError, KeyError):
        return _page("Unknown checkout session", "<p>This link is not valid.</p>", 404)
    payload = json.dumps(completed_event(state))
    signature = sign(payload, os.environ.get("STRIPE_WEBHOOK_SECRET") or DEV_WEBHOOK_SECRET)
    result = client.request(
        "POST",
        request.base_url + WEBHOOK_PATH,
        body=payload.encode(),
        headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature},
    )
    if result.status != 200:
        return _page("Payment not recorded", f"<p>The webhook answered {result.status}.</p>", 502)
    return Response(303, [("Location", success_redirect(state["success_url"], state["id"]))])


def completed_event(state: dict[str, Any]) -> dict[str, Any]:
    """A `checkout.session.completed` event with the fields Stripe sends that the webhook reads."""
    session = {
        "id": state["id"],
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": state["amount_total"],
        "amount_subtotal": state["amount_total"],
        "currency": state["currency"],
        "client_reference_id": state["client_reference_id"],
        "metadata": state["metadata"],
        "customer_email": state["customer_email"],
        "customer_details": {"email": state["customer_email"]},
        "payment_intent": "pi_local_" + uuid.uuid4().hex[:24],
        "expires_at": state["expires_at"],
        "livemode": False,
    }
    return {
        "id": "evt_local_" + uuid.uuid4().hex[:24],
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
        "data": {"object": session},
    }


def sign(payload: str, secret: str) -> str:
    """Stripe's signing scheme: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>">`."""
    import stripe

    return str(stripe.WebhookSignature.generate_signature_header(payload, secret))


PAGES = (Page("GET", PATH, show), Page("POST", PATH, pay))
