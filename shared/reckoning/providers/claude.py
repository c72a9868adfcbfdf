"""Claude as the report writer, through the Anthropic SDK.

The SDK is imported inside the functions that use it: importing it costs
seconds, and only the generation worker should pay that.

Structured output is forced tool use: one tool, `submit_report`, whose input
schema is the pydantic `Report` schema, and `tool_choice` naming it. The SDK
also offers native structured outputs (`output_config` / `messages.parse`), but
those reject or rewrite schema keywords they do not support and `parse` raises
on a truncated reply, while forced tool use takes any JSON Schema on every
current model and hands back whatever the model wrote, so a truncated or
refused draft reaches the validator (which judges it) instead of an exception.

Time budget of one `write()`: the SDK makes at most `max_retries + 1` attempts,
each bounded by `anthropic_timeout_s` (connect bounded by 5 s), and sleeps
between them for `retry-after` (capped below at MAX_RETRY_AFTER_S, beyond which
we give up and let SQS redeliver) or its own backoff (0.5 s, 1 s, ... ≤ 8 s).
With the defaults (120 s, one retry): 2 x 120 s + 20 s = 260 s worst case, so the
generate function's 900 s hold three attempts; the worker still checks the time it
has left before each one (`generate.attempt_budget_s`).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from reckoning.config import secret, settings
from reckoning.errors import PermanentFailure, ProviderBusy, TransientFailure
from reckoning.models.report import Report
from reckoning.models.submission import Submission
from reckoning.observability import TRACE, logger
from reckoning.ports import Draft
from reckoning.providers.prompt import SYSTEM_PROMPT, TOOL_NAME, user_message

if TYPE_CHECKING:
    from anthropic import Anthropic, AnthropicError, APIRequest, APIResponse, CallNext
    from anthropic.types import Message, ToolParam

# A server asking us to wait longer than this is better answered by SQS redelivery than by a sleeping Lambda.
MAX_RETRY_AFTER_S = 20.0
CONNECT_TIMEOUT_S = 5.0
# Only a local Messages-API stub is reached without a key; the real API rejects this value.
STUB_API_KEY = "sk-ant-local-stub"

_SPEND_LIMIT_CODES = frozenset(
    {"contract_spend_limit_reached", "enforced_spend_limit_reached", "linked_organization_spend_limit_reached"}
)
_SPEND_LIMIT_WORDS = re.compile(r"spend(ing)? limit|usage limit|credit (balance|limit)", re.IGNORECASE)
_TRANSIENT_STATUSES = frozenset({408, 409})
# Rate limited or overloaded: seconds to wait when the answer names none.
_WAIT_STATUSES = {429: 30.0, 529: 15.0}
_PERMANENT_KINDS = {401: "auth", 403: "auth", 404: "not_found"}
# The SDK's error class for a status, named before the SDK raises it (the middleware stops it first).
_STATUS_ERRORS = {
    400: "BadRequestError",
    402: "PaymentRequiredError",
    403: "PermissionDeniedError",
    429: "RateLimitError",
}


class ClaudeWriter:
    """Writes a draft report with Claude; failures are classified as transient or permanent."""

    def __init__(self) -> None:
        self.model = settings().anthropic_model

    @TRACE
    def write(self, submission: Submission, feedback: Sequence[str] = ()) -> Draft:
        import anthropic

        max_tokens = settings().anthropic_max_tokens
        pacing.check(max_tokens)
        anthropic_client = client()
        started = time.perf_counter()
        try:
            message = anthropic_client.messages.create(
                model=self.model,
                max_tokens=max_tokens,
                system=[{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}],
                messages=[{"role": "user", "content": user_message(submission, feedback)}],
                tools=[report_tool()],
                tool_choice={"type": "tool", "name": TOOL_NAME},
            )
        except anthropic.AnthropicError as exc:
            raise classify(exc) from None  # the SDK's message quotes the response body: keep it out of logs
        latency_ms = round((time.perf_counter() - started) * 1000)
        draft = to_draft(message, latency_ms)
        logger.info(
            "draft written",
            extra={
                "model": draft.model,
                "stop_reason": draft.stop_reason,
                "input_tokens": draft.input_tokens,
                "output_tokens": draft.output_tokens,
                "latency_ms": latency_ms,
                "has_report": bool(draft.content),
            },
        )
        return draft


def report_tool() -> ToolParam:
    return {
        "name": TOOL_NAME,
        "description": "Submit the finished Reckoning report. Call it exactly once, with the whole report.",
        "input_schema": Report.model_json_schema(by_alias=True),
        # The static prefix (tools, then the system prompt) is the same for every report and retry: cached.
        "cache_control": {"type": "ephemeral"},
    }


def to_draft(message: Message, latency_ms: int) -> Draft:
    """The tool input as the report; a reply without the tool call (a refusal) gives an empty report."""
    from anthropic.types import ToolUseBlock

    inputs = [block.input for block in message.content if isinstance(block, ToolUseBlock) and block.name == TOOL_NAME]
    content: dict[str, Any] = next((dict(given) for given in inputs if isinstance(given, dict)), {})
    return Draft(
        content=content,
        model=message.model,
        stop_reason=message.stop_reason,
        input_tokens=message.usage.input_tokens,
        output_tokens=message.usage.output_tokens,
        latency_ms=latency_ms,
        cache_read_tokens=message.usage.cache_read_input_tokens or 0,
        cache_write_tokens=message.usage.cache_creation_input_tokens or 0,
    )


def classify(exc: AnthropicError) -> TransientFailure | PermanentFailure:
    """The domain error for an SDK error; its message is the SDK class name, never the response text."""
    import anthropic

    name = type(exc).__name__
    if isinstance(exc, anthropic.APIStatusError):
        logger.warning(
            "Anthropic returned an error",
            extra={
                "error_class": name,
                "status": exc.status_code,
                "error_type": exc.type,
                "error_code": exc.error_code,
                "request_id": exc.request_id,
            },
        )
        if is_spend_limit(exc.status_code, exc.body):
            return PermanentFailure(name, kind="spend_limit")
        if exc.status_code in _WAIT_STATUSES:  # rate limited or overloaded: wait as long as it says
            return ProviderBusy(name, _retry_after_s(exc.response.headers) or _WAIT_STATUSES[exc.status_code])
        if exc.status_code in _TRANSIENT_STATUSES or exc.status_code >= 500:
            return TransientFailure(name)
        return PermanentFailure(name, kind=_PERMANENT_KINDS.get(exc.status_code, "invalid_request"))
    logger.warning("Anthropic call failed", extra={"error_class": name})
    # Connection errors, timeouts and anything unforeseen: SQS redelivers, and the DLQ bounds it.
    return TransientFailure(name)


def is_spend_limit(status: int, body: object) -> bool:
    """Whether an error response says the account's spend, usage or credit limit is reached."""
    error = body.get("error") if isinstance(body, dict) else None
    if status < 400 or status >= 500 or not isinstance(error, dict):
        return False
    details = error.get("details")
    if error.get("type") == "billing_error" or (
        isinstance(details, dict) and details.get("error_code") in _SPEND_LIMIT_CODES
    ):
        return True
    message = error.get("message")
    return isinstance(message, str) and _SPEND_LIMIT_WORDS.search(message) is not None


def give_up_early(request: APIRequest, call_next: CallNext) -> APIResponse[Any]:
    """SDK middleware (runs once per attempt, inside the SDK's retry loop): stop retrying when it cannot help.

    A spend limit often comes as a 429, which the SDK would retry; and a long
    `retry-after` would keep the Lambda asleep. Raising here ends the loop.
    """
    response = call_next(request)
    pacing.observe(response.headers)
    if response.status_code < 400:
        return response
    if is_spend_limit(response.status_code, _json_body(response)):
        logger.error("Anthropic spend limit reached", extra={"status": response.status_code})
        raise PermanentFailure(_STATUS_ERRORS.get(response.status_code, "APIStatusError"), kind="spend_limit")
    wait = _retry_after_s(response.headers)
    if wait is not None and wait > MAX_RETRY_AFTER_S:
        logger.warning("Anthropic asks for a long wait", extra={"status": response.status_code, "retry_after": wait})
        raise ProviderBusy("RetryAfterTooLong", wait)
    return response


class Pacing:
    """What the last response's `anthropic-ratelimit-output-tokens-*` headers said, in this container: a call whose
    `max_tokens` the remaining output budget cannot cover would be refused (429), so it waits for the reset
    instead of being sent. Output tokens are the budget a report exhausts first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._limit: int | None = None  # the output tokens a minute (the bucket refills at limit / 60 a second)
        self._seen_at = 0.0  # time.time() of the answer that said so
        self._reset_at = 0.0  # time.time() when the output budget is whole again

    def observe(self, headers: Mapping[str, str]) -> None:
        remaining, reset, limit = headers.get(_REMAINING), headers.get(_RESET), headers.get(_LIMIT)
        with self._lock:
            self._remaining = None  # an answer without the headers (a proxy, a stub) tells nothing
            if remaining is not None and reset is not None:
                with contextlib.suppress(ValueError):
                    self._remaining, self._reset_at = int(remaining), datetime.fromisoformat(reset).timestamp()
                    self._seen_at = time.time()
                    self._limit = int(limit) if limit else None

    def check(self, max_tokens: int, now: float | None = None) -> None:
        """Raise ProviderBusy when the known output budget cannot cover `max_tokens` now: waiting until it can
        (the bucket refills continuously at limit / 60 a second), at most until its reset."""
        now = time.time() if now is None else now
        with self._lock:
            if self._remaining is None or self._reset_at <= now:
                return
            refilled = 0.0 if not self._limit else (now - self._seen_at) * self._limit / 60
            short = max_tokens - (self._remaining + refilled)
            wait = self._reset_at - now
            if self._limit:
                wait = min(wait, short * 60 / self._limit)
        if short > 0:
            raise ProviderBusy("output-token budget would not cover the call", wait)


_REMAINING, _RESET = "anthropic-ratelimit-output-tokens-remaining", "anthropic-ratelimit-output-tokens-reset"
_LIMIT = "anthropic-ratelimit-output-tokens-limit"
pacing = Pacing()


@lru_cache(maxsize=4)
def _client_for(api_key: str, base_url: str | None, timeout_s: float, max_retries: int) -> Anthropic:
    import anthropic
    import httpx2

    return anthropic.Anthropic(
        api_key=api_key,
        base_url=base_url,
        timeout=httpx2.Timeout(timeout_s, connect=CONNECT_TIMEOUT_S),
        max_retries=max_retries,
        middleware=[give_up_early],
    )


def client() -> Anthropic:
    """One client (and connection pool) per container; a rotated key gets a new one."""
    s = settings()
    api_key = secret("ANTHROPIC_API_KEY") or STUB_API_KEY
    return _client_for(api_key, s.anthropic_base_url, s.anthropic_timeout_s, s.anthropic_max_retries)


def _json_body(response: APIResponse[Any]) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after_s(headers: Mapping[str, str]) -> float | None:
    try:
        if "retry-after-ms" in headers:
            return float(headers["retry-after-ms"]) / 1000
        if "retry-after" in headers:
            return float(headers["retry-after"])
    except ValueError:
        return None  # an HTTP date: rare, and the SDK handles it
    return None
