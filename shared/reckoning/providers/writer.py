"""The report writer: what the generation worker calls to turn a submission into a draft report.

`writer()` picks Claude when a key (or, outside production, a local Messages-API
stub address) is configured, else the deterministic offline writer outside
production, and says which in the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from reckoning.config import secret, settings
from reckoning.errors import ServiceUnavailable
from reckoning.models.submission import Submission
from reckoning.observability import logger


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
    else, outside production only, the offline writer. Production never stands in: a paying customer
    would get a template."""
    s = settings()
    base_url = s.anthropic_base_url
    if secret("ANTHROPIC_API_KEY") or (base_url and s.offline):
        from reckoning.providers.claude import ClaudeWriter

        chosen: Writer = ClaudeWriter()
        logger.info("report writer: Claude", extra={"model": chosen.model, "custom_base_url": bool(base_url)})
        return chosen
    if not s.offline:
        raise ServiceUnavailable("ANTHROPIC_API_KEY is not configured")
    from reckoning.providers.offline_writer import OfflineWriter

    logger.info("report writer: offline (no ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL)")
    return OfflineWriter()
