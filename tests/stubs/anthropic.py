"""A local Anthropic Messages API: `POST /v1/messages`, faithful enough for the real SDK.

It checks the request the way the API does (headers, model, max_tokens,
messages, tools, tool_choice), answers with a proper message object whose
`submit_report` tool call carries a report (by default the offline writer's
report for the answers found in the request, so the validator can release
it), and records every request. Tests script the next replies: rate limits
with `retry-after`, overload, server errors, slow replies, a spend limit, an
auth failure, a refusal, a `max_tokens` truncation. Errors use Anthropic's
body format `{"type": "error", "error": {"type": ..., "message": ...}}`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from reckoning.models.submission import Submission
from reckoning.providers.offline_writer import compose
from tests.stubs import Reply, Request, StubServer

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
    """The stub server plus a queue of scripted replies; an empty queue means success."""

    def __init__(self) -> None:
        self.script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self.server = StubServer(self._respond)
        self.url = self.server.url

    def start(self) -> AnthropicStub:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def then(self, *replies: Scripted) -> AnthropicStub:
        """Answer the next calls with these, in order; later calls succeed."""
        with self._lock:
            self.script.extend(replies)
        return self

    def reset(self) -> None:
        """Forget the script and the recorded requests (one server can serve many tests)."""
        with self._lock:
            self.script.clear()
            self.server.requests.clear()

    def always(self, reply: Scripted, times: int = 20) -> AnthropicStub:
        return self.then(*([reply] * times))

    @property
    def requests(self) -> list[Request]:
        return self.server.calls("POST", "/v1/messages")

    def last_body(self) -> dict[str, Any]:
        body: dict[str, Any] = self.requests[-1].json()
        return body

    def _respond(self, request: Request) -> Reply:
        problem = invalid(request)
        if problem:
            return problem
        with self._lock:
            scripted = self.script.popleft() if self.script else success()
        return scripted(request)


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
