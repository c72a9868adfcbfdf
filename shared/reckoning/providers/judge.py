"""Claude as the quality gate's judge, through the Anthropic SDK (DESIGN §6, "The quality gate").

A second model call after the writer's: the rubric as a cached system prompt, the answers and the draft as
escaped data, the rules' suspicions as leads, and a forced tool `submit_verdict` whose input is a verdict
per judgement category with verbatim quotes. Errors map exactly as the writer's do (`claude.classify`): a
judge that fails is a transient failure, so nothing is released unjudged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from reckoning.models.judgement import Suspicion, Verdict
from reckoning.models.submission import Submission
from reckoning.observability import TRACE, logger
from reckoning.providers.claude import classify, pacing
from reckoning.providers.judge_prompt import RUBRIC, TOOL_NAME, user_message, verdict_of, verdict_tool
from reckoning.providers.prompt import answers_document

if TYPE_CHECKING:
    from anthropic import Anthropic
    from anthropic.types import Message

DEFAULT_MAX_TOKENS = 2048


class ClaudeJudge:
    """Judges a draft with Claude; `client` gives the client the writer uses (asked for on each call: a rotated
    key gets a new one), `model` the judge model, `max_tokens` its budget."""

    def __init__(self, client: Callable[[], Anthropic], model: str, max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        self.client = client
        self.model = model
        self.max_tokens = max_tokens

    @TRACE
    def judge(self, submission: Submission, report: Mapping[str, Any], suspicions: tuple[Suspicion, ...]) -> Verdict:
        import anthropic

        pacing.check(self.max_tokens)
        try:
            message = self.client().messages.create(
                **request(submission, report, suspicions, self.model, self.max_tokens)
            )
        except anthropic.AnthropicError as exc:
            raise classify(exc) from None  # the SDK's message quotes the response body: keep it out of logs
        verdict = to_verdict(message)
        logger.info(
            "draft judged",
            extra={
                "model": verdict.model,
                "findings": len(verdict.findings),
                "input_tokens": verdict.input_tokens,
                "output_tokens": verdict.output_tokens,
                "cache_read_input_tokens": verdict.cache_read_input_tokens,
            },
        )
        return verdict


def request(
    submission: Submission, report: Mapping[str, Any], suspicions: tuple[Suspicion, ...], model: str, max_tokens: int
) -> dict[str, Any]:
    """The Messages-API request: the rubric and the tool marked for prompt caching, the tool forced."""
    tool = verdict_tool() | {"cache_control": {"type": "ephemeral"}}
    return {
        "model": model,
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": RUBRIC, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": user_message(answers_document(submission), report, suspicions)}],
        "tools": [tool],
        "tool_choice": {"type": "tool", "name": TOOL_NAME},
    }


def to_verdict(message: Message) -> Verdict:
    """The tool input as a verdict; a reply without the tool call passes nothing (no verdict, no release)."""
    from anthropic.types import ToolUseBlock

    from reckoning.errors import TransientFailure

    inputs = [block.input for block in message.content if isinstance(block, ToolUseBlock) and block.name == TOOL_NAME]
    tool = next((given for given in inputs if isinstance(given, dict)), None)
    if tool is None:
        raise TransientFailure("JudgeGaveNoVerdict")
    usage = message.usage
    return verdict_of(
        tool,
        message.model,
        {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_creation_input_tokens": getattr(usage, "cache_creation_input_tokens", None),
            "cache_read_input_tokens": getattr(usage, "cache_read_input_tokens", None),
        },
    )
