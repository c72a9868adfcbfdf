"""Checkout slots: the same request within a slot, a new key after it, an expiry Stripe always accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from reckoning.domain.checkout import SLOT, slot_at

CREATED = datetime(2026, 3, 1, 12, 0, 7, 123456, tzinfo=UTC)
# Stripe: expires_at 30 minutes to 24 hours after creation. Keep a margin for clocks that disagree.
SKEW = timedelta(minutes=5)


@given(elapsed=st.timedeltas(min_value=-SKEW, max_value=timedelta(days=400)))
def test_every_slot_asks_for_an_expiry_stripe_accepts(elapsed: timedelta) -> None:
    now = CREATED + elapsed
    left = slot_at(CREATED, now).expires_at - now
    assert timedelta(minutes=30) + SKEW <= left <= timedelta(hours=24) - SKEW
    assert left > timedelta(minutes=55)  # and long enough to pay (and to be handed out again)


@given(
    elapsed=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
    later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=2)),
)
def test_calls_in_one_slot_send_the_same_expiry_and_a_later_slot_changes_the_index(
    elapsed: timedelta, later: timedelta
) -> None:
    first, second = slot_at(CREATED, CREATED + elapsed), slot_at(CREATED, CREATED + elapsed + later)
    if first.index == second.index:
        assert first.expires_at == second.expires_at
    else:
        assert second.index > first.index
        assert second.expires_at > first.expires_at


def test_slots_are_counted_from_the_reckonings_creation() -> None:
    assert slot_at(CREATED, CREATED).starts_at == CREATED
    assert slot_at(CREATED, CREATED + SLOT - timedelta(microseconds=1)).index == 0
    assert slot_at(CREATED, CREATED + SLOT).index == 1
    assert slot_at(CREATED, CREATED - timedelta(seconds=30)).index == 0  # a clock slightly behind the database's
