"""Prompt caching for the Messages-API stub, as the API documents it.

Sources (read 2026-10, from copies of platform.claude.com/docs/en/build-with-claude/prompt-caching):

- The cacheable prefix is `tools`, then `system`, then `messages`, up to and including a block that carries
  `cache_control: {"type": "ephemeral"}` (optionally `"ttl": "5m" | "1h"`); at most 4 such breakpoints. A
  top-level `cache_control` puts one more breakpoint on the last block ("automatic caching").
- Writes happen only at a breakpoint. A read looks for an entry earlier requests wrote, at the breakpoint and
  then backwards, at most 20 positions (the breakpoint counting as the first).
- An entry lives 5 minutes (or 1 hour) from its last use; every read refreshes it. It becomes available only
  once the response that wrote it begins (so concurrent twins both write).
- A prefix shorter than the model's minimum cacheable length is not cached, silently: both usage counters 0.
  The minimums are in `MINIMUM_CACHEABLE_TOKENS`; a model the table does not know gets the largest (4,096),
  so the stub is never kinder than the API.
- Caches belong to a model: the same prefix sent to another model is a miss.

Token counting is the stub's usual estimate, characters / 4: a request's input is `len(body) // 4` (all of
it, as before), and a prefix counts `chars // 4` of its blocks' compact JSON (sorted keys, `cache_control`
left out, so moving a breakpoint does not change what the content before it hashes to). The usage the stub
reports splits the request's input into `cache_read_input_tokens` (the longest live prefix),
`cache_creation_input_tokens` (from there to the last breakpoint written) and `input_tokens` (the rest).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

LOOKBACK_BLOCKS = 20
MAX_BREAKPOINTS = 4
TTL_S = {"5m": 300.0, "1h": 3600.0}

# Minimum cacheable prompt length per model (docs "Cache limitations", version of 2026-10-08).
_MINIMUMS: dict[int, tuple[str, ...]] = {
    512: ("claude-fable-5-1", "claude-mythos-5-1", "claude-opus-5-5", "claude-opus-5", "claude-sonnet-5-5",
          "claude-fable-5", "claude-mythos-5", "claude-haiku-5-5"),
    1024: ("claude-opus-4-8", "claude-sonnet-5", "claude-sonnet-4-6", "claude-sonnet-4-5", "claude-opus-4-1",
           "claude-opus-4", "claude-opus-4-0", "claude-sonnet-4", "claude-sonnet-4-0"),
    2048: ("claude-mythos-preview", "claude-opus-4-7", "claude-3-5-haiku"),
    4096: ("claude-opus-4-6", "claude-opus-4-5", "claude-haiku-4-5"),
}  # fmt: skip
MINIMUM_CACHEABLE_TOKENS: dict[str, int] = {model: n for n, models in _MINIMUMS.items() for model in models}
UNKNOWN_MODEL_MINIMUM = max(_MINIMUMS)

# Models whose cache reads still count towards the input-tokens-per-minute limit (the rate-limit page marks
# them with a dagger; all retired or deprecated). For every other model cache reads do not count.
CACHE_READS_COUNT_TOWARDS_ITPM = ("claude-3-5-haiku", "claude-3-haiku", "claude-3-opus", "claude-3-5-sonnet")

_SNAPSHOT = re.compile(r"-(\d{8}|latest)$")


def model_family(model: str) -> str:
    """The model id without a dated snapshot suffix: claude-sonnet-4-5-20250929 → claude-sonnet-4-5."""
    return _SNAPSHOT.sub("", model)


def minimum_cacheable_tokens(model: str) -> int:
    return MINIMUM_CACHEABLE_TOKENS.get(model_family(model), UNKNOWN_MODEL_MINIMUM)


def cache_reads_count_towards_itpm(model: str) -> bool:
    return model_family(model) in CACHE_READS_COUNT_TOWARDS_ITPM


def estimate_tokens(chars: int) -> int:
    return chars // 4


class CacheControlError(ValueError):
    """A request whose `cache_control` the API refuses with a 400 invalid_request_error."""


@dataclass(frozen=True)
class _Block:
    canonical: str
    ttl: str | None  # the block's breakpoint TTL, or None when it is no breakpoint


@dataclass(frozen=True)
class Usage:
    """How a request's input splits between cache reads, cache writes and uncached input."""

    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int


@dataclass
class Plan:
    """What a request would read and write; `PromptCache.commit` applies it once the request is admitted."""

    usage: Usage
    reads: list[str] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)  # (key, ttl)


@dataclass
class _Entry:
    available_at: float
    expires_at: float
    ttl_s: float


def _ttl(control: Any, where: str) -> str:
    if not isinstance(control, dict) or control.get("type") != "ephemeral":
        raise CacheControlError(f"{where}.cache_control.type: Input should be 'ephemeral'")
    ttl = control.get("ttl", "5m")
    if ttl not in TTL_S:
        raise CacheControlError(f"{where}.cache_control.ttl: Input should be '5m' or '1h'")
    return str(ttl)


def _canonical(section: str, block: Any) -> str:
    content = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
    return json.dumps([section, content], sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _blocks(body: dict[str, Any]) -> list[_Block]:
    """The request's blocks in cache order (tools, system, messages), each with its breakpoint TTL if any."""
    blocks: list[_Block] = []

    def add(section: str, block: Any, where: str) -> None:
        control = block.get("cache_control") if isinstance(block, dict) else None
        ttl = _ttl(control, where) if control is not None else None
        blocks.append(_Block(_canonical(section, block), ttl))

    for n, tool in enumerate(body.get("tools") or []):
        add("tools", tool, f"tools.{n}")
    system = body.get("system")
    if isinstance(system, str) and system:
        add("system", {"type": "text", "text": system}, "system")
    for n, block in enumerate(system if isinstance(system, list) else []):
        add("system", block, f"system.{n}")
    for m, message in enumerate(body.get("messages") or []):
        content = message.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for n, block in enumerate(parts):
            add(f"messages.{message.get('role')}.{m}", block, f"messages.{m}.content.{n}")
    return _automatic(body, blocks)


def _automatic(body: dict[str, Any], blocks: list[_Block]) -> list[_Block]:
    explicit = sum(1 for b in blocks if b.ttl is not None)
    if explicit > MAX_BREAKPOINTS:
        raise CacheControlError(
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {explicit}."
        )
    control = body.get("cache_control")
    if control is None or not blocks:
        return blocks
    ttl = _ttl(control, "cache_control")
    last = blocks[-1]
    if last.ttl is not None and last.ttl != ttl:
        raise CacheControlError("cache_control: the last block already has a cache_control with a different ttl")
    if last.ttl is None and explicit == MAX_BREAKPOINTS:
        raise CacheControlError(
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided, "
            "and automatic caching needs one more."
        )
    return [*blocks[:-1], _Block(last.canonical, ttl)]


class PromptCache:
    """The organisation's prompt cache: prefix hashes with their lifetimes, in simulated seconds."""

    def __init__(self, minimum: int | None = None) -> None:
        self.minimum = minimum  # overrides the per-model table when set
        self._entries: dict[str, _Entry] = {}

    def clear(self) -> None:
        self._entries.clear()

    def plan(self, body: dict[str, Any], total_input_tokens: int, now: float) -> Plan:
        """The usage split of a request arriving at `now`; raises CacheControlError for a refused request."""
        blocks = _blocks(body)
        model = str(body["model"])
        minimum = self.minimum if self.minimum is not None else minimum_cacheable_tokens(model)
        keys, tokens = _prefixes(model, blocks)
        breakpoints = [i for i, b in enumerate(blocks) if b.ttl is not None]
        hit = -1
        for point in breakpoints:
            for position in range(point, max(point - LOOKBACK_BLOCKS, -1), -1):
                if self._live(keys[position], now):
                    hit = max(hit, position)
                    break
        read = tokens[hit] if hit >= 0 else 0
        writes = [
            (keys[i], str(blocks[i].ttl))
            for i in breakpoints
            if i > hit and tokens[i] >= minimum and not self._live(keys[i], now)
        ]
        last_written = max((i for i in breakpoints if i > hit and (keys[i], blocks[i].ttl) in writes), default=-1)
        created = tokens[last_written] - read if last_written >= 0 else 0
        uncached = max(0, total_input_tokens - read - created)
        return Plan(Usage(uncached, created, read), [keys[hit]] if hit >= 0 else [], writes)

    def commit(self, plan: Plan, now: float, available_at: float) -> None:
        """Refresh what the request read; write its new entries, available from `available_at`."""
        for key in plan.reads:
            entry = self._entries[key]
            entry.expires_at = max(entry.expires_at, now + entry.ttl_s)
        for key, ttl in plan.writes:
            known = self._entries.get(key)
            start = min(available_at, known.available_at) if known and known.expires_at > now else available_at
            self._entries[key] = _Entry(start, now + TTL_S[ttl], TTL_S[ttl])

    def _live(self, key: str, now: float) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry.available_at <= now < entry.expires_at


def _prefixes(model: str, blocks: list[_Block]) -> tuple[list[str], list[int]]:
    """Each position's cumulative prefix hash (seeded with the model) and its token estimate."""
    keys: list[str] = []
    tokens: list[int] = []
    digest = hashlib.sha256(model.encode()).hexdigest()
    chars = 0
    for block in blocks:
        digest = hashlib.sha256((digest + block.canonical).encode()).hexdigest()
        chars += len(block.canonical)
        keys.append(digest)
        tokens.append(estimate_tokens(chars))
    return keys, tokens
