"""When a failed report job comes back: a backoff that grows with its receive count, capped at an hour."""

from reckoning import worker
from tests.helpers import Env


def test_the_default_schedule_retries_within_minutes_then_hours() -> None:
    assert [worker.retry_delay_s(n) for n in range(1, 7)] == [60, 240, 960, 3600, 3600, 3600]


def test_the_schedule_scales_with_its_base_in_whole_seconds(env: Env) -> None:
    env(GENERATION_RETRY_BASE_S="0.5")
    assert [worker.retry_delay_s(n) for n in range(1, 5)] == [1, 2, 8, 32]
    assert worker.retry_delay_s(20) == worker.MAX_RETRY_DELAY_S <= 12 * 3600  # SQS's own limit
