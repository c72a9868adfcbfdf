"""The Messages-API stub's rate-limit tier, prompt cache, latency and overloads, through the real anthropic SDK.

Most tests run the buckets on a ManualClock, so nothing refills unless the test moves time; the SDK never
retries (`max_retries=0`), so every 429 and 529 the stub sends is seen here.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import anthropic
import pytest
from anthropic.types import Message

from tests.stubs import anthropic as scripted
from tests.stubs.anthropic import AnthropicStub, Latency, ManualClock, Overloads, Tier
from tests.stubs.anthropic_limits import nearest_thousand

LIMIT_HEADERS = [
    f"anthropic-ratelimit-{kind}-{field}"
    for kind in ("requests", "input-tokens", "output-tokens", "tokens")
    for field in ("limit", "remaining", "reset")
]
BIG = "You write careful, specific reports. " * 900  # about 8,300 tokens at the stub's chars / 4
MEDIUM = "Be brief. " * 300  # about 760 tokens: above 512, below 1,024
TOOL: dict[str, Any] = {
    "name": "submit_report",
    "description": "Submit the report. " * 400,
    "input_schema": {"type": "object", "properties": {"title": {"type": "string"}}},
}
FORCED = {"type": "tool", "name": "submit_report"}
Ask = tuple[Message, Mapping[str, str]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def server() -> Iterator[AnthropicStub]:
    stub = AnthropicStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def stub(server: AnthropicStub) -> Iterator[AnthropicStub]:
    """The module's stub server, plain and with nothing remembered; a test configures it as it needs."""
    yield server.configure()
    server.configure()


@functools.cache
def client(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=url, max_retries=0)


def ask(stub: AnthropicStub, *, max_tokens: int = 1000, model: str = "claude-sonnet-4-6", **extra: Any) -> Ask:
    raw = client(stub.url).messages.with_raw_response.create(
        model=model, max_tokens=max_tokens, messages=[{"role": "user", "content": "Hello"}], **extra
    )
    return raw.parse(), raw.headers


def cached_system(text: str, **control: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text, "cache_control": {"type": "ephemeral", **control}}]


def seconds_until(stamp: str) -> float:
    return (datetime.fromisoformat(stamp) - datetime.now(UTC)).total_seconds()


def counted(message: Message) -> int:
    """What a response's request took from the input-tokens bucket: uncached input and cache writes."""
    return message.usage.input_tokens + (message.usage.cache_creation_input_tokens or 0)


class TestWithoutATier:
    def test_the_stub_sends_no_rate_limit_headers_and_never_refuses(self, stub: AnthropicStub) -> None:
        answers = [ask(stub, max_tokens=20_000) for _ in range(60)]

        message, headers = answers[-1]
        assert not [name for name in headers if name.startswith("anthropic-ratelimit")]
        assert "retry-after" not in headers
        assert message.usage.cache_creation_input_tokens == 0
        assert message.usage.cache_read_input_tokens == 0


class TestRequestsPerMinute:
    def test_429_once_the_rpm_is_spent_with_retry_after_and_the_headers(
        self, stub: AnthropicStub, clock: ManualClock
    ) -> None:
        stub.configure(Tier(rpm=3, itpm=100_000, otpm=100_000), clock=clock)

        remaining = [ask(stub)[1]["anthropic-ratelimit-requests-remaining"] for _ in range(3)]
        with pytest.raises(anthropic.RateLimitError) as refused:
            ask(stub)

        assert remaining == ["2", "1", "0"]
        error = refused.value
        assert error.status_code == 429
        assert isinstance(error.body, dict)
        assert error.body["type"] == "error"
        assert error.body["error"]["type"] == "rate_limit_error"
        assert "rate limit of 3 requests per minute" in error.body["error"]["message"]
        headers = error.response.headers
        assert headers["retry-after"] == "20"  # one request refills in 60 s / 3
        assert all(name in headers for name in LIMIT_HEADERS)
        assert headers["anthropic-ratelimit-requests-limit"] == "3"
        assert headers["anthropic-ratelimit-requests-remaining"] == "0"
        assert 59 <= seconds_until(headers["anthropic-ratelimit-requests-reset"]) <= 61  # full again in 60 s
        assert headers["anthropic-ratelimit-requests-reset"].endswith("Z")
        assert len(stub.requests) == 4

    def test_the_bucket_refills_continuously_and_retry_after_is_honest(
        self, stub: AnthropicStub, clock: ManualClock
    ) -> None:
        stub.configure(Tier(rpm=3, itpm=100_000, otpm=100_000), clock=clock)
        for _ in range(3):
            ask(stub)

        clock.advance(19)
        with pytest.raises(anthropic.RateLimitError) as early:
            ask(stub)
        clock.advance(1)
        _, headers = ask(stub)

        assert early.value.response.headers["retry-after"] == "1"  # earlier retries fail
        assert headers["anthropic-ratelimit-requests-remaining"] == "0"
        with pytest.raises(anthropic.RateLimitError):
            ask(stub)  # the refused request consumed nothing, the admitted one took the refilled request

    def test_overloads_and_refusals_take_nothing_from_the_buckets(
        self, stub: AnthropicStub, clock: ManualClock
    ) -> None:
        stub.configure(Tier(rpm=2, itpm=100_000, otpm=100_000), clock=clock, overloads=Overloads(first=3))

        for _ in range(3):
            with pytest.raises(anthropic.OverloadedError) as overloaded:
                ask(stub)
        answers = [ask(stub)[1]["anthropic-ratelimit-requests-remaining"] for _ in range(2)]

        assert overloaded.value.response.headers["anthropic-ratelimit-requests-remaining"] == "2"
        assert answers == ["1", "0"]


class TestScriptedReplies:
    def test_a_scripted_failure_is_admitted_first_and_gives_its_reservation_back(
        self, stub: AnthropicStub, clock: ManualClock
    ) -> None:
        stub.configure(Tier(rpm=10, itpm=1_000_000, otpm=10_000), clock=clock)
        stub.then(scripted.server_error())

        with pytest.raises(anthropic.InternalServerError) as failed:
            ask(stub, max_tokens=9_000)

        headers = failed.value.response.headers
        assert headers["retry-after"] == "0.01"  # the scripted reply's own header wins
        assert headers["anthropic-ratelimit-requests-remaining"] == "9"
        assert headers["anthropic-ratelimit-output-tokens-remaining"] == "10000"  # it wrote nothing


class TestOutputTokens:
    def test_max_tokens_is_reserved_at_the_start_and_corrected_to_the_output_at_the_end(
        self, stub: AnthropicStub, clock: ManualClock
    ) -> None:
        stub.configure(Tier(rpm=100, itpm=1_000_000, otpm=10_000), clock=clock)

        first, headers = ask(stub, max_tokens=9_000)
        second, _ = ask(stub, max_tokens=9_000)  # fits only because the first gave back what it did not write
        _, after = ask(stub, max_tokens=10)

        produced = first.usage.output_tokens
        assert 0 < produced < 1_000
        assert headers["anthropic-ratelimit-output-tokens-remaining"] == str(nearest_thousand(10_000 - produced))
        assert headers["anthropic-ratelimit-output-tokens-limit"] == "10000"
        used = produced + second.usage.output_tokens + 10  # the last reply ran past 10 tokens: 10 count
        assert after["anthropic-ratelimit-output-tokens-remaining"] == str(nearest_thousand(10_000 - used))

    def test_a_max_tokens_above_the_otpm_is_refused_even_on_a_full_bucket(
        self, stub: AnthropicStub, clock: ManualClock
    ) -> None:
        stub.configure(Tier(rpm=100, itpm=1_000_000, otpm=8_000), clock=clock)

        with pytest.raises(anthropic.RateLimitError) as refused:
            ask(stub, max_tokens=8_001)
        _, headers = ask(stub, max_tokens=8_000)

        assert "8,000 output tokens per minute" in refused.value.message
        assert refused.value.response.headers["anthropic-ratelimit-output-tokens-remaining"] == "8000"
        assert int(headers["anthropic-ratelimit-requests-remaining"]) == 99

    @pytest.mark.parametrize(("max_tokens", "admitted"), [(4_000, 2), (1_000, 3)])
    def test_an_oversized_max_tokens_throttles_concurrent_requests_earlier(
        self, stub: AnthropicStub, clock: ManualClock, max_tokens: int, admitted: int
    ) -> None:
        latency = Latency(first_token_s=0.6)  # the reservations are held while the three are in flight
        stub.configure(Tier(rpm=100, itpm=1_000_000, otpm=10_000), clock=clock, latency=latency)

        def one(_: int) -> int:
            try:
                ask(stub, max_tokens=max_tokens)
            except anthropic.RateLimitError as refused:
                assert "output tokens per minute" in refused.message
                return 429
            return 200

        with ThreadPoolExecutor(3) as pool:
            statuses = list(pool.map(one, range(3)))

        assert statuses.count(200) == admitted
        assert statuses.count(429) == 3 - admitted


class TestPromptCaching:
    def test_the_first_request_writes_the_cache_and_later_ones_read_it(
        self, stub: AnthropicStub, clock: ManualClock
    ) -> None:
        stub.configure(clock=clock)

        first, _ = ask(stub, system=cached_system(BIG))
        later = [ask(stub, system=cached_system(BIG))[0] for _ in range(3)]

        assert first.usage.cache_creation_input_tokens is not None
        assert first.usage.cache_creation_input_tokens > 8_000
        assert first.usage.cache_read_input_tokens == 0
        for message in later:
            assert message.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
            assert message.usage.cache_creation_input_tokens == 0
            assert message.usage.input_tokens == first.usage.input_tokens < 100

    def test_cache_reads_do_not_count_towards_the_itpm(self, stub: AnthropicStub, clock: ManualClock) -> None:
        tier = Tier(rpm=100, itpm=20_000, otpm=100_000)
        stub.configure(tier, clock=clock)

        answers = [ask(stub, system=cached_system(BIG)) for _ in range(8)]  # 8 x 8,300 tokens, 20,000 a minute

        spent = sum(counted(message) for message, _ in answers)
        assert spent < 9_000
        remaining = answers[-1][1]["anthropic-ratelimit-input-tokens-remaining"]
        assert remaining == str(nearest_thousand(20_000 - spent))

    def test_without_cache_control_the_same_prompt_counts_in_full(
        self, stub: AnthropicStub, clock: ManualClock
    ) -> None:
        stub.configure(Tier(rpm=100, itpm=20_000, otpm=100_000), clock=clock)

        first, _ = ask(stub, system=BIG)
        ask(stub, system=BIG)
        with pytest.raises(anthropic.RateLimitError) as refused:
            ask(stub, system=BIG)

        assert first.usage.input_tokens > 8_000
        assert first.usage.cache_creation_input_tokens == first.usage.cache_read_input_tokens == 0
        assert "20,000 input tokens per minute" in refused.value.message

    def test_an_entry_lives_five_minutes_from_its_last_use(self, stub: AnthropicStub, clock: ManualClock) -> None:
        stub.configure(clock=clock)

        ask(stub, system=cached_system(BIG))
        clock.advance(299)
        refreshed, _ = ask(stub, system=cached_system(BIG))
        clock.advance(299)
        again, _ = ask(stub, system=cached_system(BIG))
        clock.advance(301)
        expired, _ = ask(stub, system=cached_system(BIG))
        clock.advance(301)
        long_lived, _ = ask(stub, system=cached_system(BIG, ttl="1h"))
        clock.advance(3000)
        hour, _ = ask(stub, system=cached_system(BIG, ttl="1h"))

        assert refreshed.usage.cache_read_input_tokens
        assert again.usage.cache_read_input_tokens
        assert expired.usage.cache_creation_input_tokens and not expired.usage.cache_read_input_tokens
        assert long_lived.usage.cache_creation_input_tokens
        assert hour.usage.cache_read_input_tokens

    def test_the_prefix_is_tools_then_system_then_messages(self, stub: AnthropicStub, clock: ManualClock) -> None:
        stub.configure(clock=clock)
        tools = [{**TOOL, "cache_control": {"type": "ephemeral"}}]

        first, _ = ask(stub, system="One system prompt.", tools=tools, tool_choice=FORCED)
        other_system, _ = ask(stub, system="Another system prompt.", tools=tools, tool_choice=FORCED)
        other_model, _ = ask(stub, model="claude-sonnet-5-5", system="One system prompt.", tools=tools,
                             tool_choice=FORCED)  # fmt: skip
        other_tool, _ = ask(stub, tools=[{**tools[0], "description": "Changed."}], tool_choice=FORCED)

        assert first.usage.cache_creation_input_tokens
        assert other_system.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens  # after tools
        assert other_model.usage.cache_read_input_tokens == 0  # a cache belongs to a model
        assert other_tool.usage.cache_read_input_tokens == 0

    @pytest.mark.parametrize(
        ("model", "cached"),
        [
            ("claude-sonnet-5-5", True),  # 512 tokens
            ("claude-sonnet-4-6", False),  # 1,024 tokens
            ("claude-haiku-4-5-20251001", False),  # 4,096 tokens, a dated snapshot
            ("claude-test-model", False),  # unknown: the largest minimum, 4,096
        ],
    )
    def test_a_prefix_below_the_models_minimum_is_not_cached(
        self, stub: AnthropicStub, clock: ManualClock, model: str, cached: bool
    ) -> None:
        stub.configure(clock=clock)

        first, _ = ask(stub, model=model, system=cached_system(MEDIUM))
        second, _ = ask(stub, model=model, system=cached_system(MEDIUM))

        assert bool(first.usage.cache_creation_input_tokens) is cached
        assert bool(second.usage.cache_read_input_tokens) is cached
        if not cached:
            assert first.usage.cache_creation_input_tokens == second.usage.cache_read_input_tokens == 0
            assert second.usage.input_tokens == first.usage.input_tokens > 700

    def test_an_entry_is_readable_only_once_the_response_that_wrote_it_began(
        self, stub: AnthropicStub, clock: ManualClock
    ) -> None:
        stub.configure(clock=clock, latency=Latency(first_token_s=2.0), time_scale=100.0)

        ask(stub, system=cached_system(BIG))
        twin, _ = ask(stub, system=cached_system(BIG))  # the manual clock has not moved: still being written
        clock.advance(2)
        reader, _ = ask(stub, system=cached_system(BIG))

        assert twin.usage.cache_creation_input_tokens and not twin.usage.cache_read_input_tokens
        assert reader.usage.cache_read_input_tokens

    def test_more_than_four_breakpoints_are_refused(self, stub: AnthropicStub) -> None:
        system = [{"type": "text", "text": f"Part {n}.", "cache_control": {"type": "ephemeral"}} for n in range(5)]

        with pytest.raises(anthropic.BadRequestError) as refused:
            ask(stub, system=system)

        assert "A maximum of 4 blocks with cache_control may be provided. Found 5." in refused.value.message


class TestOverloads:
    def test_the_first_n_requests_are_overloaded(self, stub: AnthropicStub) -> None:
        stub.configure(overloads=Overloads(first=2))

        for _ in range(2):
            with pytest.raises(anthropic.OverloadedError) as overloaded:
                ask(stub)
        ask(stub)

        assert overloaded.value.status_code == 529
        error = {"type": "overloaded_error", "message": "Overloaded"}
        assert overloaded.value.body == {"type": "error", "error": error}

    def test_a_fraction_is_overloaded_deterministically(self, stub: AnthropicStub) -> None:
        stub.configure(overloads=Overloads(fraction=0.25, retry_after=0.01))

        def status(_: int) -> int:
            try:
                ask(stub)
            except anthropic.OverloadedError as overloaded:
                assert overloaded.response.headers["retry-after"] == "0.01"
                return 529
            return 200

        statuses = [status(n) for n in range(12)]

        assert [n + 1 for n, s in enumerate(statuses) if s == 529] == [4, 8, 12]


class TestTime:
    def test_a_time_scale_compresses_the_minute_and_the_headers_say_real_seconds(self, stub: AnthropicStub) -> None:
        stub.configure(Tier(rpm=2, itpm=100_000, otpm=100_000), time_scale=60.0)  # a minute a second
        ask(stub)
        ask(stub)

        with pytest.raises(anthropic.RateLimitError) as refused:
            ask(stub)
        headers = refused.value.response.headers
        until_reset = seconds_until(headers["anthropic-ratelimit-requests-reset"])
        time.sleep(float(headers["retry-after"]))
        ask(stub)

        simulated = float(headers["retry-after"]) * 60  # whole simulated seconds: at most 30, less what has passed
        assert simulated == pytest.approx(round(simulated))
        assert 20 <= round(simulated) <= 30
        assert 0.5 <= until_reset <= 1.1  # both requests back: about a simulated minute

    def test_latency_is_per_output_token_in_simulated_seconds(self, stub: AnthropicStub) -> None:
        latency = Latency(first_token_s=2.0, per_output_token_s=0.02)
        stub.configure(latency=latency, time_scale=20.0)

        started = time.monotonic()
        message, _ = ask(stub)
        elapsed = time.monotonic() - started

        assert elapsed >= latency.of(message.usage.output_tokens) / 20.0 > 0.1
