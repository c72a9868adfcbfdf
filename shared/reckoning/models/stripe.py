"""Stripe webhook events as read once their signature is verified: only the fields the ledger and handlers use.

Stripe adds fields without notice, so everything else is ignored; a field we read that has an unexpected type
makes the body "not a Stripe event" (400), never a half-read object.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class _StripeObject(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _intent(value: Any) -> Any:
    """A payment intent arrives as its id, or expanded as an object that carries it."""
    return value.get("id") if isinstance(value, dict) else value


class CheckoutSession(_StripeObject):
    """The `data.object` of a `checkout.session.*` event."""

    object: str = "checkout.session"
    id: str
    client_reference_id: str | None = None
    metadata: dict[str, str] | None = None
    payment_status: str | None = None
    amount_total: int | None = None
    currency: str | None = None
    payment_intent: str | None = None

    _payment_intent = field_validator("payment_intent", mode="before")(_intent)

    def claimed_reckoning_ids(self) -> set[str]:
        """The reckoning ids the session names itself (client_reference_id, metadata), if any."""
        claimed = {self.client_reference_id, (self.metadata or {}).get("reckoning_id")}
        return {value for value in claimed if value is not None}


class Charge(_StripeObject):
    """The `data.object` of a `charge.refunded` event."""

    object: str = "charge"
    refunded: bool = False
    payment_intent: str | None = None

    _payment_intent = field_validator("payment_intent", mode="before")(_intent)


class _EventData(BaseModel):
    object: dict[str, Any]


class StripeEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    type: str
    created: int
    livemode: bool = False
    data: _EventData

    def session(self) -> CheckoutSession:
        """The event's object as a Checkout session (pydantic's ValidationError when it is not one)."""
        return CheckoutSession.model_validate(self.data.object)

    def charge(self) -> Charge:
        return Charge.model_validate(self.data.object)

    @property
    def session_id(self) -> str | None:
        """The Checkout session a `checkout.session.*` event is about."""
        obj = self.data.object
        found = obj.get("id") if obj.get("object") == "checkout.session" else None
        return found if isinstance(found, str) else None

    @property
    def payment_intent_id(self) -> str | None:
        intent = _intent(self.data.object.get("payment_intent"))
        return intent if isinstance(intent, str) else None
