"""When a failed report job comes back: a backoff that grows with its receive count, capped at an hour; the last
receive goes straight to the DLQ."""

from reckoning.dependencies import Policy
from reckoning.domain.generate import MAX_RETRY_DELAY_S, Delivery, retry_delay_s


def test_the_default_schedule_retries_within_minutes_then_hours() -> None:
    assert [retry_delay_s(Policy(), n) for n in range(1, 7)] == [60, 240, 960, 3600, 3600, 3600]


def test_the_schedule_scales_with_its_base_in_whole_seconds() -> None:
    policy = Policy(generation_retry_base_s=0.5)
    assert [retry_delay_s(policy, n) for n in range(1, 5)] == [1, 2, 8, 32]
    assert retry_delay_s(policy, 20) == MAX_RETRY_DELAY_S <= 12 * 3600  # SQS's own limit


def test_a_delivery_says_whether_it_is_the_last_and_when_a_failure_comes_back() -> None:
    policy = Policy(queue_max_receive_count=3)
    assert Delivery.of(1, policy) == Delivery(receive=1, final=False, retry_in_s=60)
    assert Delivery.of(2, policy) == Delivery(receive=2, final=False, retry_in_s=240)
    assert Delivery.of(3, policy) == Delivery(receive=3, final=True, retry_in_s=0)
