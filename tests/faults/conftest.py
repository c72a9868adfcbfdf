"""The fault suite's world, and the table it prints (`make faults` also writes it to docs/reliability.md)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reckoning.providers import aws
from tests.faults.world import FAULT_S, LEASE_S, RETRY_BASE_S, STALE_S, SWEEP_S, VISIBILITY_S, World
from tests.helpers import Env
from tests.integration.conftest import _moto_endpoint, moto_server, report_bucket, report_queue  # noqa: F401
from tests.stubs.anthropic import AnthropicStub
from tests.stubs.resend import ResendStub


@dataclass(frozen=True)
class Row:
    step: str
    fault: str
    outcome: str
    recovered_by: str
    recovery_s: float
    bound_s: float


ROWS: list[Row] = []


@pytest.fixture(scope="session")
def anthropic_stub() -> Iterator[AnthropicStub]:
    stub = AnthropicStub().start()
    yield stub
    stub.stop()


@pytest.fixture(scope="session")
def resend_stub() -> Iterator[ResendStub]:
    stub = ResendStub()
    stub.server.start()
    yield stub
    stub.server.stop()


@pytest.fixture(scope="session")
def warm() -> None:
    """What a warm container has already done (imports, fonts): the table times recovery, not cold starts."""
    from datetime import UTC, datetime

    import anthropic  # noqa: F401
    import resend  # noqa: F401

    from reckoning import pdf
    from reckoning.models.report import Report
    from reckoning.models.submission import Submission
    from reckoning.providers.offline_writer import OfflineWriter
    from reckoning.validation import GenerationMeta, validate
    from tests.helpers import SAMPLE_ANSWERS

    submission = Submission.of("Ada", SAMPLE_ANSWERS)
    draft = OfflineWriter().write(submission)
    validate(draft.content, submission, GenerationMeta(stop_reason="end_turn", model="offline"))
    pdf.render(Report.model_validate(draft.content), "Ada", datetime.now(UTC))


@pytest.fixture
def world(
    warm: None,
    database_url: str,
    server_url: str,
    report_queue: str,  # noqa: F811
    report_bucket: str,  # noqa: F811
    anthropic_stub: AnthropicStub,
    resend_stub: ResendStub,
    monkeypatch: pytest.MonkeyPatch,
    env: Env,
) -> Iterator[World]:
    anthropic_stub.reset()
    resend_stub.reset()
    dlq_url = aws.sqs().get_queue_url(QueueName="reckoning-reports-dlq-test")["QueueUrl"]
    built = World(database_url, server_url, report_queue, dlq_url, report_bucket, anthropic_stub, resend_stub,
                  monkeypatch, env)  # fmt: skip
    yield built
    built.close()


def table(rows: list[Row]) -> str:
    worst = max(rows, key=lambda row: row.recovery_s / max(row.bound_s, 0.001))
    lines = [
        "# Reliability: the fault table",
        "",
        "Written by `make faults` (tests/faults/): the whole paid flow in one process with real PostgreSQL, SQS and S3",
        "(moto), the Anthropic and Resend stubs through the real SDKs, and one failure injected per case. Every case",
        "ends with the order not lost, at most one report version released (exactly one when ready), at most one",
        "report email, and nothing charged without a report or a flag for a person (needs_review, failed + DLQ,",
        "refunded). Recovery is timed from the fault to the end state; the bound is what recovers it (below) plus",
        "the length of the fault and one run.",
        "",
        f"Scaled time: lease {LEASE_S} s, stale after {STALE_S} s, a sweep every {SWEEP_S} s, retries after "
        f"ceil({RETRY_BASE_S} x 4^(n-1)) s, visibility timeout {VISIBILITY_S} s, outages {FAULT_S} s. In production:",
        "900 s, 300 s, 60 s, 60 x 4^(n-1) s (at most 3,600 s), 5,400 s.",
        "",
        f"**{len(rows)} cases: {len(rows)} settled as expected, 0 lost, 0 doubled.** Slowest against its bound: "
        f"{worst.step} / {worst.fault}, {worst.recovery_s:.1f} s of {worst.bound_s:.1f} s.",
        "",
        "| step | fault | end state | recovered by | recovery (s) | bound (s) |",
        "|---|---|---|---|---:|---:|",
    ]
    for row in rows:
        cells = (row.step, row.fault, row.outcome, row.recovered_by, f"{row.recovery_s:.1f}", f"{row.bound_s:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if ROWS:
        terminalreporter.write_sep("-", "fault table")
        terminalreporter.write(table(ROWS))


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("FAULTS_TABLE")
    if ROWS and target:
        Path(target).write_text(table(ROWS))
