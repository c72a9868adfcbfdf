"""ClaudeWriter through the real Anthropic SDK against the local Messages-API stub.

The stub speaks HTTP on a real socket, so retries, timeouts and error parsing
are the SDK's own; SDK retry waits are kept to milliseconds with `retry-after`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from reckoning.errors import PermanentFailure, TransientFailure
from reckoning.models.report import Report
from reckoning.models.submission import Submission
from reckoning.providers import claude
from reckoning.providers.claude import ClaudeWriter
from reckoning.providers.offline_writer import OfflineWriter
from reckoning.providers.prompt import SYSTEM_PROMPT
from tests.helpers import SAMPLE_ANSWERS, Env, with_fakes
from tests.stubs import anthropic as stubs
from tests.stubs.anthropic import AnthropicStub


def writer_in_use() -> object:
    """The adapter behind the process's writer, as the environment chose it."""
    return with_fakes().writer


REPORT: dict[str, Any] = {
    "title": "Ada's Reckoning",
    "summary": "You rated your life 6 out of 10. You want to move into product work.",
    "sections": [{"area": "work", "heading": "Towards product", "body": "One.\n\nTwo."}],
    "nextSteps": [{"action": "Talk to your manager.", "why": "You have been avoiding it.", "horizon": "this_week"}],
    "closing": "Start small.",
}


@pytest.fixture(scope="module")
def stub_server() -> Iterator[AnthropicStub]:
    server = AnthropicStub().start()
    yield server
    server.stop()


@pytest.fixture
def stub(stub_server: AnthropicStub) -> AnthropicStub:
    stub_server.reset()
    return stub_server


@pytest.fixture
def configure(stub: AnthropicStub, env: Env) -> Iterator[Any]:
    """Point the writer at the stub with the given settings (fresh settings and SDK client each time)."""

    def apply(
        *, retries: int = 2, timeout_s: float = 5.0, model: str = "claude-test-model", max_tokens: int = 3000
    ) -> None:
        env(
            ANTHROPIC_BASE_URL=stub.url,
            ANTHROPIC_MAX_RETRIES=str(retries),
            ANTHROPIC_TIMEOUT_S=str(timeout_s),
            ANTHROPIC_MODEL=model,
            ANTHROPIC_MAX_TOKENS=str(max_tokens),
        )

    apply()
    yield apply


@pytest.fixture
def ada() -> Submission:
    return Submission.of("Ada", dict(SAMPLE_ANSWERS))


def _user_text(body: dict[str, Any]) -> str:
    content = body["messages"][0]["content"]
    return content if isinstance(content, str) else "".join(block["text"] for block in content)


class TestSuccess:
    def test_the_draft_is_the_tool_input_with_usage_stop_reason_and_latency(
        self, stub: AnthropicStub, configure: Any, ada: Submission
    ) -> None:
        stub.then(stubs.success(REPORT))

        draft = ClaudeWriter().write(ada)

        assert draft.content == REPORT
        assert draft.stop_reason == "tool_use"
        assert draft.model == "claude-test-model"
        assert draft.input_tokens is not None and draft.input_tokens > 100
        assert draft.output_tokens is not None and draft.output_tokens > 10
        assert draft.latency_ms >= 0
        assert len(stub.requests) == 1

    def test_the_request_carries_prompt_delimited_answers_forced_tool_model_and_max_tokens(
        self, stub: AnthropicStub, configure: Any, ada: Submission
    ) -> None:
        configure(model="claude-sonnet-test", max_tokens=4321)

        ClaudeWriter().write(ada, feedback=["Section 2 does not refer to the person's answers."])

        request = stub.requests[0]
        body = request.json()
        assert stubs.api_key(request) == claude.STUB_API_KEY
        assert body["model"] == "claude-sonnet-test"
        assert body["max_tokens"] == 4321
        # The static prefix, tools then system prompt, is marked for the prompt cache
        assert body["system"] == [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}]
        assert body["tools"] == [
            {
                "name": "submit_report",
                "description": body["tools"][0]["description"],
                "input_schema": Report.model_json_schema(by_alias=True),
                "cache_control": {"type": "ephemeral"},
            }
        ]
        assert body["tool_choice"] == {"type": "tool", "name": "submit_report"}
        text = _user_text(body)
        document = json.loads(text.split("<answers>")[1].split("</answers>")[0])
        assert {entry["id"] for entry in document["answers"]} == set(SAMPLE_ANSWERS)
        assert "Section 2 does not refer to the person's answers." in text

    def test_the_api_key_comes_from_the_environment_when_set(
        self, stub: AnthropicStub, configure: Any, ada: Submission, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")

        ClaudeWriter().write(ada)

        assert stubs.api_key(stub.requests[0]) == "sk-ant-test-key"

    def test_the_default_stub_reply_is_a_report_built_from_the_answers(
        self, stub: AnthropicStub, configure: Any, ada: Submission
    ) -> None:
        draft = ClaudeWriter().write(ada)

        assert draft.content == OfflineWriter().write(ada).content
        Report.model_validate(draft.content)


class TestModelEndings:
    def test_a_refusal_is_a_draft_with_no_report_and_the_stop_reason(
        self, stub: AnthropicStub, configure: Any, ada: Submission
    ) -> None:
        stub.then(stubs.refusal())

        draft = ClaudeWriter().write(ada)

        assert draft.stop_reason == "refusal"
        assert draft.content == {}

    def test_a_truncated_reply_is_a_partial_draft_with_stop_reason_max_tokens(
        self, stub: AnthropicStub, configure: Any, ada: Submission
    ) -> None:
        stub.then(stubs.truncated())

        draft = ClaudeWriter().write(ada)

        assert draft.stop_reason == "max_tokens"
        assert set(draft.content) == {"title", "summary"}
        assert draft.output_tokens == 3000


class TestTransientFailures:
    def test_a_rate_limit_with_retry_after_is_retried_by_the_sdk(
        self, stub: AnthropicStub, configure: Any, ada: Submission
    ) -> None:
        stub.then(stubs.rate_limited(retry_after=0.01), stubs.success(REPORT))

        draft = ClaudeWriter().write(ada)

        assert draft.content == REPORT
        assert len(stub.requests) == 2

    def test_a_persistent_rate_limit_fails_transiently_after_every_retry(
        self, stub: AnthropicStub, configure: Any, ada: Submission
    ) -> None:
        configure(retries=2)
        stub.always(stubs.rate_limited(retry_after=0.01))

        with pytest.raises(TransientFailure) as failure:
            ClaudeWriter().write(ada)

        assert str(failure.value) == "RateLimitError"
        assert len(stub.requests) == 3

    @pytest.mark.parametrize(
        ("reply", "error_class"),
        [(stubs.overloaded(), "OverloadedError"), (stubs.server_error(), "InternalServerError")],
        ids=["529 overloaded", "500 api_error"],
    )
    def test_server_side_errors_fail_transiently(
        self, stub: AnthropicStub, configure: Any, ada: Submission, reply: stubs.Scripted, error_class: str
    ) -> None:
        configure(retries=1)
        stub.always(reply)

        with pytest.raises(TransientFailure) as failure:
            ClaudeWriter().write(ada)

        assert str(failure.value) == error_class
        assert len(stub.requests) == 2

    def test_a_reply_slower_than_the_timeout_fails_transiently(
        self, stub: AnthropicStub, configure: Any, ada: Submission
    ) -> None:
        configure(retries=1, timeout_s=0.3)
        stub.always(stubs.slow(2.0))
        started = time.monotonic()

        with pytest.raises(TransientFailure) as failure:
            ClaudeWriter().write(ada)

        assert str(failure.value) == "APITimeoutError"
        assert len(stub.requests) == 2
        assert time.monotonic() - started < 2.0

    def test_a_long_retry_after_gives_up_at_once_for_sqs_to_redeliver(
        self, stub: AnthropicStub, configure: Any, ada: Submission
    ) -> None:
        stub.always(stubs.rate_limited(retry_after=claude.MAX_RETRY_AFTER_S + 40))
        started = time.monotonic()

        with pytest.raises(TransientFailure):
            ClaudeWriter().write(ada)

        assert len(stub.requests) == 1
        assert time.monotonic() - started < 2.0

    def test_an_unreachable_api_fails_transiently(self, configure: Any, ada: Submission, env: Env) -> None:
        env(ANTHROPIC_BASE_URL="http://127.0.0.1:9", ANTHROPIC_MAX_RETRIES="0")  # discard port: refused

        with pytest.raises(TransientFailure) as failure:
            ClaudeWriter().write(ada)

        assert str(failure.value) == "APIConnectionError"


class TestPermanentFailures:
    @pytest.mark.parametrize("status", [400, 429])
    def test_a_spend_limit_fails_permanently_without_retrying(
        self, stub: AnthropicStub, configure: Any, ada: Submission, status: int
    ) -> None:
        stub.always(stubs.spend_limit(status))

        with pytest.raises(PermanentFailure) as failure:
            ClaudeWriter().write(ada)

        assert failure.value.kind == "spend_limit"
        assert str(failure.value) == {400: "BadRequestError", 429: "RateLimitError"}[status]
        assert len(stub.requests) == 1

    @pytest.mark.parametrize(
        ("reply", "kind", "error_class"),
        [
            (stubs.auth_error(), "auth", "AuthenticationError"),
            (stubs.model_not_found(), "not_found", "NotFoundError"),
        ],
        ids=["401", "404 model"],
    )
    def test_refusals_of_the_account_or_model_fail_permanently_once(
        self, stub: AnthropicStub, configure: Any, ada: Submission, reply: stubs.Scripted, kind: str, error_class: str
    ) -> None:
        stub.always(reply)

        with pytest.raises(PermanentFailure) as failure:
            ClaudeWriter().write(ada)

        assert failure.value.kind == kind
        assert str(failure.value) == error_class
        assert len(stub.requests) == 1

    def test_an_invalid_request_fails_permanently_and_the_message_is_not_the_response_text(
        self, stub: AnthropicStub, configure: Any, ada: Submission
    ) -> None:
        configure(model="")  # the stub, like the API, rejects a request without a model

        with pytest.raises(PermanentFailure) as failure:
            ClaudeWriter().write(ada)

        assert failure.value.kind == "invalid_request"
        assert str(failure.value) == "BadRequestError"
        assert failure.value.__cause__ is None


class TestWriterChoice:
    def test_no_key_and_no_base_url_means_the_offline_writer(self, env: Env) -> None:
        env(ANTHROPIC_BASE_URL=None)

        assert isinstance(writer_in_use(), OfflineWriter)

    def test_a_base_url_means_claude(self, configure: Any) -> None:
        chosen = writer_in_use()

        assert isinstance(chosen, ClaudeWriter)
        assert chosen.model == "claude-test-model"

    def test_a_key_means_claude(self, env: Env) -> None:
        env(ANTHROPIC_BASE_URL=None, ANTHROPIC_API_KEY="sk-ant-test-key")

        assert isinstance(writer_in_use(), ClaudeWriter)
