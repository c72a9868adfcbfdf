"""A local Anthropic Messages API: `POST /v1/messages`, faithful enough for the real SDK.

It checks the request the way the API does (headers, model, max_tokens,
messages, tools, tool_choice), answers with a proper message object whose
`submit_report` tool call carries a report (by default the offline writer's
report for the answers found in the request, so the validator can release
it), and records every request. Tests script the next replies: rate limits
with `retry-after`, overload, server errors, slow replies, a spend limit, an
auth failure, a refusal, a `max_tokens` truncation. Errors use Anthropic's
body format `{"type": "error", "error": {"type": ..., "message": ...}}`.

With no options the stub is what it always was: no rate limits, no latency, no overloads. Options:

    AnthropicStub(
        tier=Tier(rpm=50, itpm=30_000, otpm=8_000),  # token buckets per (simulated) minute: anthropic_limits
        time_scale=60.0,                             # 1 simulated minute per real second
        latency=Latency(first_token_s=1.0, per_output_token_s=0.02),  # simulated seconds
        overloads=Overloads(first=2, fraction=0.1),  # deterministic 529 overloaded_error
    )

With a tier, every response carries the `anthropic-ratelimit-*` headers and a request the buckets cannot
hold gets 429 `rate_limit_error` with `retry-after` (see anthropic_limits for exactly what the numbers
mean). Prompt caching (`cache_control` on tools, system or message blocks, or top-level) works with or
without a tier: usage reports `cache_creation_input_tokens` and `cache_read_input_tokens` (see
anthropic_cache); the stub's input estimate stays `len(body) // 4`, split between the three counters.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from reckoning.models.submission import Submission
from reckoning.providers import judge_prompt
from reckoning.providers.offline_writer import compose
from reckoning.validation.heuristic_judge import HeuristicJudge
from tests.stubs import Reply, Request, StubServer
from tests.stubs.anthropic_cache import CacheControlError, Plan, PromptCache, cache_reads_count_towards_itpm
from tests.stubs.anthropic_limits import Clock, Limiter, refusal_message, retry_after, scaled_clock
from tests.stubs.anthropic_limits import Latency as Latency
from tests.stubs.anthropic_limits import ManualClock as ManualClock
from tests.stubs.anthropic_limits import Overloads as Overloads
from tests.stubs.anthropic_limits import Tier as Tier

Scripted = Callable[[Request], Reply]

_ANSWERS = re.compile(r"<answers>\s*(.*?)\s*</answers>", re.DOTALL)
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_ids = itertools.count(1)

FALLBACK_REPORT: dict[str, Any] = {
    "title": "Your Reckoning",
    "summary": "This is a report from the local Anthropic stub. It found no answers in the request.",
    "sections": [{"area": "overall", "heading": "Where you stand", "body": "The stub had nothing to reflect on."}],
    "nextSteps": [
        {
            "action": "Send answers inside answers tags.",
            "why": "The stub builds reports from them.",
            "horizon": "this_week",
        }
    ],
    "closing": "That is all the stub can say.",
}


class AnthropicStub:
    """The stub server plus a queue of scripted replies; an empty queue means success.

    `tier`, `time_scale`, `clock`, `latency`, `overloads` and `cache_minimum` are described in the module
    docstring and in anthropic_limits / anthropic_cache; all default to the plain stub.
    """

    tier: Tier | None
    time_scale: float
    clock: Clock
    latency: Latency | None
    overloads: Overloads | None
    limiter: Limiter | None
    _served: int  # well-formed requests since the last reset, for the overload pattern

    def __init__(
        self,
        tier: Tier | None = None,
        *,
        time_scale: float = 1.0,
        clock: Clock | None = None,
        latency: Latency | None = None,
        overloads: Overloads | None = None,
        cache_minimum: int | None = None,
    ) -> None:
        self.script: deque[Scripted] = deque()  # for the writer's calls
        self.judge_script: deque[Scripted] = deque()  # for the judge's (`submit_verdict`) calls
        self._lock = threading.Lock()
        self.server = StubServer(self._respond)
        self.url = self.server.url
        self.cache = PromptCache()
        self.configure(
            tier, time_scale=time_scale, clock=clock, latency=latency, overloads=overloads, cache_minimum=cache_minimum
        )

    def start(self) -> AnthropicStub:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def then(self, *replies: Scripted) -> AnthropicStub:
        """Answer the writer's next calls with these, in order; later calls succeed."""
        with self._lock:
            self.script.extend(replies)
        return self

    def judge_then(self, *replies: Scripted) -> AnthropicStub:
        """Answer the judge's next calls with these, in order; later ones get the offline judge's verdict."""
        with self._lock:
            self.judge_script.extend(replies)
        return self

    def reset(self) -> None:
        """Forget the script, the recorded requests, the prompt cache, and start with full buckets."""
        with self._lock:
            self.script.clear()
            self.judge_script.clear()
            self.server.requests.clear()
            self.cache.clear()
            self._served = 0
            self.limiter = Limiter(self.tier, self.clock()) if self.tier else None

    def configure(
        self,
        tier: Tier | None = None,
        *,
        time_scale: float = 1.0,
        clock: Clock | None = None,
        latency: Latency | None = None,
        overloads: Overloads | None = None,
        cache_minimum: int | None = None,
    ) -> AnthropicStub:
        """Give a running stub other options, as the constructor takes them (one server, many tests); resets it."""
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        with self._lock:
            self.tier, self.latency, self.overloads = tier, latency, overloads
            self.time_scale, self.clock = time_scale, clock or scaled_clock(time_scale)
            self.cache.minimum = cache_minimum
        self.reset()
        return self

    def always(self, reply: Scripted, times: int = 20) -> AnthropicStub:
        return self.then(*([reply] * times))

    @property
    def requests(self) -> list[Request]:
        """The writer's calls (every call but the judge's)."""
        return [r for r in self.server.calls("POST", "/v1/messages") if not _judging(r)]

    @property
    def judge_requests(self) -> list[Request]:
        return [r for r in self.server.calls("POST", "/v1/messages") if _judging(r)]

    def last_body(self) -> dict[str, Any]:
        body: dict[str, Any] = self.requests[-1].json()
        return body

    def _respond(self, request: Request) -> Reply:
        problem = invalid(request)
        if problem:
            return problem
        body: dict[str, Any] = request.json()
        total_input = len(request.body) // 4
        with self._lock:
            now = self.clock()
            try:
                plan = self.cache.plan(body, total_input, now)
            except CacheControlError as bad:
                return error(400, "invalid_request_error", str(bad))
            self._served += 1
            if self.overloads and self.overloads.hits(self._served):
                return self._with_limits(self._overloaded(), now)
            refused = self._admit(body, plan, now)
            if refused:
                return refused
            first_token = self.latency.first_token_s if self.latency else 0.0
            self.cache.commit(plan, now, available_at=now + first_token)
            script = self.judge_script if _asks_for_a_verdict(body) else self.script
            scripted = script.popleft() if script else success()
        reply = _with_cache_usage(scripted(request), plan)
        return self._finish(reply, body["max_tokens"])

    def _overloaded(self) -> Reply:
        wait = self.overloads.retry_after if self.overloads else None
        headers = {} if wait is None else {"retry-after": f"{wait:g}"}
        return error(529, "overloaded_error", "Overloaded", headers=headers)

    def _admit(self, body: dict[str, Any], plan: Plan, now: float) -> Reply | None:
        """None when the request fits the tier (and is charged), else the 429 the API would send."""
        if self.limiter is None:
            return None
        usage = plan.usage
        counted = usage.input_tokens + usage.cache_creation_input_tokens
        if cache_reads_count_towards_itpm(str(body["model"])):
            counted += usage.cache_read_input_tokens
        refusal = self.limiter.admit(counted, int(body["max_tokens"]), now)
        if refusal is None:
            return None
        reply = error(429, "rate_limit_error", refusal_message(refusal),
                      headers={"retry-after": retry_after(refusal.wait_s, self.time_scale)})  # fmt: skip
        return self._with_limits(reply, now)

    def _finish(self, reply: Reply, max_tokens: int) -> Reply:
        """Wait the model's latency, then correct the output reservation to what the reply produced."""
        produced = _output_tokens(reply)
        if self.latency and reply.status == 200:
            time.sleep(self.latency.of(produced) / self.time_scale)
        with self._lock:
            now = self.clock()
            if self.limiter is not None:
                self.limiter.correct_output(max_tokens, min(produced, max_tokens), now)
            return self._with_limits(reply, now)

    def _with_limits(self, reply: Reply, now: float) -> Reply:
        """The reply with the rate-limit headers (a scripted reply's own headers win). Call under the lock."""
        if self.limiter is not None:
            reply.headers = {**self.limiter.headers(now, self.time_scale), **reply.headers}
        return reply


def _output_tokens(reply: Reply) -> int:
    usage = reply.body.get("usage") if isinstance(reply.body, dict) else None
    return int(usage.get("output_tokens") or 0) if isinstance(usage, dict) else 0


def _with_cache_usage(reply: Reply, plan: Plan) -> Reply:
    """A message's usage split between uncached input, cache writes and cache reads."""
    usage = reply.body.get("usage") if isinstance(reply.body, dict) else None
    if isinstance(usage, dict):
        usage.update(
            input_tokens=plan.usage.input_tokens,
            cache_creation_input_tokens=plan.usage.cache_creation_input_tokens,
            cache_read_input_tokens=plan.usage.cache_read_input_tokens,
        )
    return reply


# --- request checks --------------------------------------------------------------------------------------


def invalid(request: Request) -> Reply | None:
    """The API's answer to a malformed request, or None when it is well-formed."""
    if request.method != "POST" or request.path != "/v1/messages":
        return error(404, "not_found_error", f"Not found: {request.method} {request.path}")
    if not api_key(request):
        return error(401, "authentication_error", "x-api-key or authorization header is required")
    if not request.headers.get("anthropic-version"):
        return error(400, "invalid_request_error", "anthropic-version header is required")
    try:
        body = request.json()
    except ValueError:
        return error(400, "invalid_request_error", "The request body is not valid JSON")
    message = _body_problem(body) if isinstance(body, dict) else "The request body must be a JSON object"
    return error(400, "invalid_request_error", message) if message else None


def api_key(request: Request) -> str | None:
    """The key the client sent: `x-api-key`, or `Authorization: Bearer` (newer SDKs send that)."""
    bearer = request.headers.get("authorization", "")
    return request.headers.get("x-api-key") or (bearer.removeprefix("Bearer ").strip() or None)


def _body_problem(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return "max_tokens: must be a positive integer"
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        return "system: must be a string or a list of text blocks"
    return _messages_problem(body.get("messages")) or _tools_problem(body.get("tools"), body.get("tool_choice"))


def _messages_problem(messages: Any) -> str | None:
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    expected = "user"
    for n, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") != expected:
            return f"messages.{n}: roles must alternate between user and assistant, starting with user"
        if not isinstance(message.get("content"), str | list) or not message["content"]:
            return f"messages.{n}.content: must be a non-empty string or list of blocks"
        expected = "assistant" if expected == "user" else "user"
    return None


def _tools_problem(tools: Any, tool_choice: Any) -> str | None:
    names: set[str] = set()
    for n, tool in enumerate(tools or []):
        if not isinstance(tool, dict) or not _TOOL_NAME.match(str(tool.get("name", ""))):
            return f"tools.{n}.name: invalid tool name"
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            return f"tools.{n}.input_schema: must be a JSON Schema with type object"
        names.add(tool["name"])
    if tool_choice is None:
        return None
    if not isinstance(tool_choice, dict) or tool_choice.get("type") not in {"auto", "any", "tool", "none"}:
        return "tool_choice: invalid"
    if tool_choice["type"] == "tool" and tool_choice.get("name") not in names:
        return "tool_choice.name: no tool with that name was provided"
    return None


# --- replies ---------------------------------------------------------------------------------------------


def error(status: int, kind: str, message: str, *, headers: dict[str, str] | None = None, **error: Any) -> Reply:
    body = {"type": "error", "error": {"type": kind, "message": message, **error}}
    return Reply(status=status, body=body, headers={"request-id": f"req_stub_{next(_ids)}", **(headers or {})})


def message(
    request: Request, content: list[dict[str, Any]], stop_reason: str, *, output_tokens: int | None = None
) -> Reply:
    body = request.json()
    return Reply(
        status=200,
        body={
            "id": f"msg_stub_{next(_ids)}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": len(request.body) // 4,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": output_tokens if output_tokens is not None else len(json.dumps(content)) // 4,
            },
        },
        headers={"request-id": f"req_stub_{next(_ids)}"},
    )


def tool_call(request: Request, report: dict[str, Any]) -> dict[str, Any]:
    choice = request.json().get("tool_choice") or {}
    return {"type": "tool_use", "id": f"toolu_stub_{next(_ids)}", "name": choice.get("name", "submit_report"),
            "input": report}  # fmt: skip


def success(report: dict[str, Any] | None = None, *, delay_s: float = 0.0) -> Scripted:
    """The forced tool call with `report`, or with a report built from the answers in the request."""

    def reply(request: Request) -> Reply:
        if report is None and _asks_for_a_verdict(request.json()):
            content = judge_reply(request.json())
        else:
            content = report if report is not None else report_for(request)
        answer = message(request, [tool_call(request, content)], "tool_use")
        answer.delay_s = delay_s
        return answer

    return reply


def slow(delay_s: float) -> Scripted:
    """A success that arrives after `delay_s` (longer than the client's timeout in a timeout test)."""
    return success(delay_s=delay_s)


def truncated() -> Scripted:
    """The model ran out of tokens mid-report: a partial tool input and stop_reason max_tokens."""

    def reply(request: Request) -> Reply:
        partial = {k: v for k, v in report_for(request).items() if k in {"title", "summary"}}
        return message(request, [tool_call(request, partial)], "max_tokens", output_tokens=request.json()["max_tokens"])

    return reply


def refusal() -> Scripted:
    """The model declined: no tool call, stop_reason refusal."""

    def reply(request: Request) -> Reply:
        return message(request, [{"type": "text", "text": "I can't help with that."}], "refusal")

    return reply


def rate_limited(retry_after: float | None = 0.01) -> Scripted:
    headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
    return lambda _: error(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit",
                           headers=headers)  # fmt: skip


def overloaded(retry_after: float | None = 0.01) -> Scripted:
    headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
    return lambda _: error(529, "overloaded_error", "Overloaded", headers=headers)


def server_error(retry_after: float | None = 0.01) -> Scripted:
    headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
    return lambda _: error(500, "api_error", "Internal server error", headers=headers)


def spend_limit(status: int = 400) -> Scripted:
    """The account's limit is reached: as a 400 (usage limits) or a 429 (spend limit, with an error code)."""
    if status == 429:
        return lambda _: error(
            429,
            "rate_limit_error",
            "Your organization has reached its monthly spend limit.",
            headers={"retry-after": "0.01"},
            details={"error_code": "enforced_spend_limit_reached"},
        )
    return lambda _: error(
        status,
        "invalid_request_error",
        "You have reached your specified API usage limits. You will regain access soon.",
    )


def auth_error() -> Scripted:
    return lambda _: error(401, "authentication_error", "invalid x-api-key")


def model_not_found() -> Scripted:
    return lambda request: error(404, "not_found_error", f"model: {request.json().get('model')}")


# --- the default report ----------------------------------------------------------------------------------


def _asks_for_a_verdict(body: dict[str, Any]) -> bool:
    return (body.get("tool_choice") or {}).get("name") == judge_prompt.TOOL_NAME


def _judging(request: Request) -> bool:
    try:
        return _asks_for_a_verdict(request.json())
    except (ValueError, AttributeError):
        return False


def judge_reply(body: dict[str, Any]) -> dict[str, Any]:
    """The `submit_verdict` input the offline judge gives for a judge request: the stand-in of the judge model,
    reading the request as the model would (the answers, the draft and the rules' suspicions)."""
    submission, report, suspicions = judge_prompt.parse_request(body)
    return judge_prompt.tool_input(HeuristicJudge().judge(submission, report, suspicions))


def report_for(request: Request) -> dict[str, Any]:
    """The offline writer's report for the answers inside `<answers>` in the last user message."""
    try:
        submission = submission_in(request.json())
    except (ValueError, KeyError, TypeError):
        return dict(FALLBACK_REPORT)
    return compose(submission) if submission else dict(FALLBACK_REPORT)


def submission_in(body: dict[str, Any]) -> Submission | None:
    content = body["messages"][-1]["content"]
    text = content if isinstance(content, str) else " ".join(b.get("text", "") for b in content)
    found = _ANSWERS.search(text)
    if not found:
        return None
    document = json.loads(found.group(1))
    answers = {entry["id"]: entry["answer"] for entry in document["answers"]}
    return Submission.of(document.get("name"), answers)
