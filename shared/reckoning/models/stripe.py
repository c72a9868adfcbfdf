"""Stripe webhook events as read once their signature is verified: only what the ledger and the handlers use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict


class _EventData(BaseModel):
    object: dict[str, Any]


class StripeEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    type: str
    created: int
    livemode: bool = False
    data: _EventData

    @property
    def session_id(self) -> str | None:
        """The Checkout session a `checkout.session.*` event is about."""
        obj = self.data.object
        return obj.get("id") if obj.get("object") == "checkout.session" else None

    @property
    def payment_intent_id(self) -> str | None:
        return intent_id(self.data.object)


def intent_id(obj: Mapping[str, Any]) -> str | None:
    """The payment intent of a session or a charge: its id, or the id of the expanded object."""
    intent = obj.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return intent if isinstance(intent, str) else None
