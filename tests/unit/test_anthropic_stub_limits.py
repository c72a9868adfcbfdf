"""The arithmetic behind the Messages-API stub's tier and prompt cache (anthropic_limits, anthropic_cache)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.stubs.anthropic_cache import PromptCache, cache_reads_count_towards_itpm, minimum_cacheable_tokens
from tests.stubs.anthropic_limits import Bucket, Limiter, Overloads, Tier, nearest_thousand, retry_after, rfc3339


def test_a_bucket_refills_continuously_up_to_its_limit() -> None:
    bucket = Bucket(60, now=0.0)
    bucket.level = 0.0

    bucket.refill(30.0)
    assert bucket.level == pytest.approx(30.0)
    assert bucket.wait_for(40) == pytest.approx(10.0)
    assert bucket.wait_for(1_000) == pytest.approx(30.0)  # never enough: until full
    bucket.refill(1_000.0)
    assert bucket.level == 60.0


def test_a_refused_request_takes_nothing_and_waits_for_every_short_bucket() -> None:
    limiter = Limiter(Tier(rpm=60, itpm=6_000, otpm=600), now=0.0)
    assert limiter.admit(input_tokens=6_000, max_tokens=300, now=0.0) is None

    refusal = limiter.admit(input_tokens=3_000, max_tokens=600, now=0.0)

    assert refusal is not None
    assert (refusal.dimension, refusal.limit) == ("input tokens", 6_000)
    assert refusal.wait_s == pytest.approx(30.0)  # input: 3,000 at 100 a second; output: 300 at 10 a second
    assert limiter.requests.level == 59 and limiter.output.level == 300


def test_the_output_reservation_is_corrected_and_capped() -> None:
    limiter = Limiter(Tier(rpm=60, itpm=6_000, otpm=600), now=0.0)
    limiter.admit(input_tokens=10, max_tokens=500, now=0.0)

    limiter.correct_output(reserved=500, actual=120, now=0.0)

    assert limiter.output.level == 480


@pytest.mark.parametrize(("value", "rounded"), [(0, 0), (499.9, 0), (500, 1_000), (8_499, 8_000), (-3, 0)])
def test_remaining_tokens_are_rounded_to_the_nearest_thousand(value: float, rounded: int) -> None:
    assert nearest_thousand(value) == rounded


def test_retry_after_is_whole_simulated_seconds_in_real_seconds() -> None:
    assert retry_after(19.2, 1.0) == "20"
    assert retry_after(0.01, 1.0) == "1"
    assert retry_after(30.0, 60.0) == "0.5"


def test_reset_times_are_rfc3339_utc_rounded_up() -> None:
    instant = datetime(2026, 1, 2, 3, 4, 5, 123_456, tzinfo=UTC)

    assert rfc3339(instant, precise=False) == "2026-01-02T03:04:06Z"
    assert rfc3339(instant, precise=True) == "2026-01-02T03:04:05.124Z"


def test_overloads_are_a_deterministic_pattern() -> None:
    assert [n for n in range(1, 13) if Overloads(fraction=0.25).hits(n)] == [4, 8, 12]
    assert [n for n in range(1, 8) if Overloads(first=2, fraction=0.5).hits(n)] == [1, 2, 4, 6]
    assert not any(Overloads().hits(n) for n in range(1, 100))


@pytest.mark.parametrize(
    ("model", "minimum"),
    [
        ("claude-sonnet-5-5", 512),
        ("claude-opus-5", 512),
        ("claude-sonnet-5", 1_024),
        ("claude-sonnet-4-6", 1_024),
        ("claude-sonnet-4-5-20250929", 1_024),
        ("claude-opus-4-7", 2_048),
        ("claude-haiku-4-5-20251001", 4_096),
        ("claude-opus-4-5", 4_096),
        ("claude-made-up", 4_096),
    ],
)
def test_the_minimum_cacheable_length_is_the_models(model: str, minimum: int) -> None:
    assert minimum_cacheable_tokens(model) == minimum


def test_cache_reads_count_towards_the_itpm_only_for_the_old_models() -> None:
    assert cache_reads_count_towards_itpm("claude-3-haiku-20240307")
    assert not cache_reads_count_towards_itpm("claude-sonnet-5-5")


def test_a_read_looks_back_at_most_twenty_blocks() -> None:
    cache = PromptCache(minimum=1)
    text = [{"type": "text", "text": f"Block {n}. " * 10} for n in range(40)]
    marked = {"cache_control": {"type": "ephemeral"}}

    def body(blocks: int) -> dict[str, object]:
        system = [*text[: blocks - 1], {**text[blocks - 1], **marked}]
        return {"model": "claude-sonnet-5-5", "system": system, "messages": [{"role": "user", "content": "Hi"}]}

    cache.commit(cache.plan(body(10), 10_000, now=0.0), now=0.0, available_at=0.0)
    near = cache.plan(body(29), 10_000, now=1.0)  # block 10 is the 20th position back from block 29
    far = cache.plan(body(30), 10_000, now=1.0)

    assert near.usage.cache_read_input_tokens > 0
    assert far.usage.cache_read_input_tokens == 0
