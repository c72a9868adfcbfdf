"""Rate limits for the Messages-API stub, as Anthropic documents them (platform.claude.com/docs/en/api/rate-limits).

- Three limits per minute: requests (RPM), input tokens (ITPM), output tokens (OTPM). Each is a token bucket
  of capacity `limit`, continuously refilled at `limit / 60` per second (not reset at fixed intervals), and
  full at the start.
- A request is admitted only if every bucket holds what it needs: 1 request; its input tokens that count
  (uncached input plus cache writes; cache reads do not count for current models); and its `max_tokens` as
  the output estimate. Otherwise it is refused with 429 `rate_limit_error` and consumes nothing. A request
  needing more than a whole minute's limit (say `max_tokens` above the OTPM limit) is refused every time.
- When the request ends, the output reservation is corrected to the output tokens it really produced (the
  difference goes back into the bucket, never above its capacity).
- Every response carries `anthropic-ratelimit-{requests,input-tokens,output-tokens,tokens}-{limit,remaining,
  reset}`: remaining requests are whole requests; remaining tokens are rounded to the nearest thousand, as the
  API does; `tokens-*` is input + output (the API's value when no workspace limit applies); reset is when the
  bucket will be full again, RFC 3339 in UTC. A 429 also carries `retry-after`: whole seconds until every
  bucket can hold the request ("earlier retries will fail"), computed without regard to other clients.

Time. The buckets run on a simulated clock, in simulated seconds: the limits are per simulated minute. By
default simulated time is real monotonic time multiplied by `time_scale` (time_scale=60: a simulated minute
per real second; RPM 50 then admits 50 requests per real second). Whatever a client sees is converted back
to real time: `retry-after` is the whole simulated seconds divided by `time_scale` (a float once scaled),
the reset timestamps are the real wall-clock instants the buckets will be full (to the second at scale 1, to
the millisecond when scaled), and model latency sleeps `simulated seconds / time_scale`. So a client
honouring the headers behaves exactly as it would against the API, only `time_scale` times faster, and
every ratio (throughput / limit, waits / minute) is the real one. A test may pass its own `clock`
(simulated seconds, e.g. `ManualClock`) to move time by hand.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

Clock = Callable[[], float]

DOCS = "https://docs.claude.com/en/api/rate-limits"


@dataclass(frozen=True)
class Tier:
    """The organisation's limits for the model: requests, input tokens and output tokens per (simulated) minute."""

    rpm: int
    itpm: int
    otpm: int

    def __post_init__(self) -> None:
        if min(self.rpm, self.itpm, self.otpm) < 1:
            raise ValueError(f"every limit must be positive: {self}")


@dataclass(frozen=True)
class Latency:
    """Model-like latency, in simulated seconds: the wait before the response begins, plus per output token.

    For example Latency(first_token_s=1.0, per_output_token_s=0.02): a 2,000-token report takes 41 s.
    """

    first_token_s: float = 0.0
    per_output_token_s: float = 0.0

    def of(self, output_tokens: int) -> float:
        return self.first_token_s + self.per_output_token_s * output_tokens


@dataclass(frozen=True)
class Overloads:
    """529 `overloaded_error` on demand, deterministic, counted over well-formed requests in arrival order.

    The first `first` requests are overloaded, and of the requests after them exactly `fraction` (the n-th is
    overloaded when floor(n * fraction) grows: fraction 0.25 overloads the 4th, 8th, 12th, …). An overloaded
    request is refused before the rate limits see it and consumes nothing. `retry_after` (real seconds) adds a
    `retry-after` header; by default there is none.
    """

    first: int = 0
    fraction: float = 0.0
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if self.first < 0 or not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"first must be >= 0 and fraction within [0, 1]: {self}")

    def hits(self, n: int) -> bool:
        """Whether the n-th (1-based) well-formed request is overloaded."""
        if n <= self.first:
            return True
        k = n - self.first
        return math.floor(k * self.fraction) > math.floor((k - 1) * self.fraction)


class ManualClock:
    """Simulated seconds that move only when a test says so."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def scaled_clock(time_scale: float) -> Clock:
    """Real monotonic time times `time_scale`, in simulated seconds."""
    return lambda: time.monotonic() * time_scale


class Bucket:
    def __init__(self, limit: int, now: float) -> None:
        self.limit = limit
        self.level = float(limit)
        self._at = now

    @property
    def rate(self) -> float:
        """Refill per simulated second."""
        return self.limit / 60.0

    def refill(self, now: float) -> None:
        self.level = min(float(self.limit), self.level + max(0.0, now - self._at) * self.rate)
        self._at = max(self._at, now)

    def wait_for(self, need: float) -> float:
        """Simulated seconds until the bucket holds `need` (until it is full when it can never hold it)."""
        return max(0.0, min(need, self.limit) - self.level) / self.rate

    def until_full(self) -> float:
        return (self.limit - self.level) / self.rate

    def give_back(self, amount: float) -> None:
        self.level = min(float(self.limit), self.level + amount)


@dataclass(frozen=True)
class Refusal:
    dimension: str  # "requests", "input tokens" or "output tokens"
    limit: int
    wait_s: float  # simulated seconds


class Limiter:
    """The three buckets. Not thread-safe on its own: the stub calls it under its lock."""

    def __init__(self, tier: Tier, now: float) -> None:
        self.tier = tier
        self.requests = Bucket(tier.rpm, now)
        self.input = Bucket(tier.itpm, now)
        self.output = Bucket(tier.otpm, now)

    def _buckets(self) -> tuple[tuple[str, Bucket], ...]:
        return (("requests", self.requests), ("input tokens", self.input), ("output tokens", self.output))

    def admit(self, input_tokens: int, max_tokens: int, now: float) -> Refusal | None:
        """Take 1 request, `input_tokens` and `max_tokens` (the output reservation), or refuse and take nothing."""
        needs = {"requests": 1.0, "input tokens": float(input_tokens), "output tokens": float(max_tokens)}
        for _, bucket in self._buckets():
            bucket.refill(now)
        short = [(name, bucket) for name, bucket in self._buckets() if bucket.level < needs[name]]
        if short:
            wait = max(bucket.wait_for(needs[name]) for name, bucket in self._buckets())
            name, bucket = short[0]
            return Refusal(name, bucket.limit, wait)
        for name, bucket in self._buckets():
            bucket.level -= needs[name]
        return None

    def correct_output(self, reserved: int, actual: int, now: float) -> None:
        """The request ended: give back what it reserved but did not produce (or take what it overran)."""
        self.output.refill(now)
        self.output.give_back(reserved - actual)

    def headers(self, now: float, time_scale: float, wall: datetime | None = None) -> dict[str, str]:
        for _, bucket in self._buckets():
            bucket.refill(now)
        wall = wall or datetime.now(UTC)

        def reset(sim_s: float) -> str:
            return rfc3339(wall + timedelta(seconds=sim_s / time_scale), precise=time_scale > 1)

        tokens_reset = max(self.input.until_full(), self.output.until_full())
        return {
            "anthropic-ratelimit-requests-limit": str(self.requests.limit),
            "anthropic-ratelimit-requests-remaining": str(math.floor(self.requests.level)),
            "anthropic-ratelimit-requests-reset": reset(self.requests.until_full()),
            "anthropic-ratelimit-input-tokens-limit": str(self.input.limit),
            "anthropic-ratelimit-input-tokens-remaining": str(nearest_thousand(self.input.level)),
            "anthropic-ratelimit-input-tokens-reset": reset(self.input.until_full()),
            "anthropic-ratelimit-output-tokens-limit": str(self.output.limit),
            "anthropic-ratelimit-output-tokens-remaining": str(nearest_thousand(self.output.level)),
            "anthropic-ratelimit-output-tokens-reset": reset(self.output.until_full()),
            "anthropic-ratelimit-tokens-limit": str(self.input.limit + self.output.limit),
            "anthropic-ratelimit-tokens-remaining": str(nearest_thousand(self.input.level + self.output.level)),
            "anthropic-ratelimit-tokens-reset": reset(tokens_reset),
        }


def nearest_thousand(value: float) -> int:
    return math.floor(max(0.0, value) / 1000 + 0.5) * 1000


def rfc3339(instant: datetime, *, precise: bool) -> str:
    """UTC, rounded up: to the second like the API (`2025-08-21T12:40:59Z`), or to the millisecond."""
    instant = instant.astimezone(UTC)
    if precise:
        micro = math.ceil(instant.microsecond / 1000) * 1000
        instant = instant.replace(microsecond=0) + timedelta(microseconds=micro)
        return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"
    if instant.microsecond:
        instant = instant.replace(microsecond=0) + timedelta(seconds=1)
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def retry_after(wait_s: float, time_scale: float) -> str:
    """Whole simulated seconds (at least 1), in real seconds."""
    return f"{max(1, math.ceil(wait_s - 1e-9)) / time_scale:g}"


def refusal_message(refusal: Refusal) -> str:
    return (
        f"This request would exceed your organization's rate limit of {refusal.limit:,} {refusal.dimension} per "
        f"minute. For details, refer to: {DOCS}. You can see the response headers for current usage. Please "
        "reduce the prompt length or the maximum tokens requested, or try again later."
    )
