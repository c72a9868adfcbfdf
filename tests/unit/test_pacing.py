"""Rate limits are waiting, not failing: how long a job waits, and a call that would not fit is not sent."""

from __future__ import annotations

import pytest

from reckoning.domain.generate import MAX_WAIT_S, MIN_WAIT_S, wait_s
from reckoning.errors import ProviderBusy
from reckoning.providers.claude import Pacing

RESET = "2030-01-01T00:01:00Z"
NOW = 1893456000.0  # 2030-01-01T00:00:00Z


def test_a_job_waits_what_the_provider_asked_plus_at_most_a_fifth_within_sqs_bounds() -> None:
    waits = [wait_s(50) for _ in range(200)]
    assert min(waits) >= 50 and max(waits) <= 60
    assert len(set(waits)) > 1  # jittered: the jobs turned away together do not all come back together
    assert wait_s(0) == MIN_WAIT_S and wait_s(10_000) == MAX_WAIT_S == 900


def test_a_call_the_remaining_output_budget_cannot_cover_waits_for_the_reset() -> None:
    pacing = Pacing()
    pacing.observe(
        {"anthropic-ratelimit-output-tokens-remaining": "4000", "anthropic-ratelimit-output-tokens-reset": RESET}
    )

    pacing.check(3000, now=NOW)  # fits: sent
    with pytest.raises(ProviderBusy) as waiting:
        pacing.check(6000, now=NOW)
    assert waiting.value.retry_after_s == 60
    pacing.check(6000, now=NOW + 61)  # after the reset: sent


def test_an_answer_without_the_headers_forgets_what_was_known() -> None:
    pacing = Pacing()
    pacing.observe(
        {"anthropic-ratelimit-output-tokens-remaining": "0", "anthropic-ratelimit-output-tokens-reset": RESET}
    )
    pacing.observe({})
    pacing.check(6000, now=NOW)
