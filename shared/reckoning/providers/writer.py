"""The report writer: what the generation worker calls to turn a submission into a draft report.

`writer()` picks Claude when a key (or, outside production, a local Messages-API
stub address) is configured, else the deterministic offline writer outside
production (`providers.choose`), and says which in the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from reckoning.config import secret, settings
from reckoning.models.submission import Submission
from reckoning.observability import logger
from reckoning.providers import choose


@dataclass(frozen=True, slots=True)
class Draft:
    """One model answer. `content` may violate the report schema: the validator judges it."""

    content: dict[str, Any]
    model: str
    stop_reason: str | None  # Anthropic stop_reason: "end_turn", "max_tokens", "refusal", "tool_use", ...
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: int


class Writer(Protocol):
    model: str

    def write(self, submission: Submission, feedback: Sequence[str] = ()) -> Draft:
        """A draft report; `feedback` lists what the validator rejected in the previous attempt.

        Raises `TransientFailure` (retry later) or `PermanentFailure` (with a `kind`).
        """
        ...


def writer() -> Writer:
    """Claude when ANTHROPIC_API_KEY is set (or, outside production, a local stub's ANTHROPIC_BASE_URL),
    else, outside production only, the offline writer."""
    s = settings()

    def claude() -> Writer:
        from reckoning.providers.claude import ClaudeWriter

        logger.info(
            "report writer: Claude", extra={"model": s.anthropic_model, "custom_base_url": bool(s.anthropic_base_url)}
        )
        return ClaudeWriter()

    def offline() -> Writer:
        from reckoning.providers.offline_writer import OfflineWriter

        return OfflineWriter()

    configured = secret("ANTHROPIC_API_KEY") or (s.anthropic_base_url and s.offline)
    return choose("ANTHROPIC_API_KEY", claude if configured else None, offline)
