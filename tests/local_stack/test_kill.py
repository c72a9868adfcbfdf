"""A real process kill: `python -m reckoning_local serve` SIGKILLed after the webhook's ack (its queue and its
worker die with it), restarted on the same state folder, finishes the paid reckoning exactly once: one report
version, one report email, within the stated bound (lease + stale period + one sweep, plus the run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reckoning_local import client
from tests.helpers import ROOT, submission
from tests.servers import free_port
from tests.stubs import anthropic as claude
from tests.stubs.anthropic import AnthropicStub

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    # The stack runs its own embedded PostgreSQL here: the proxied pass would only run it again.
    pytest.mark.skipif(bool(os.environ.get("RECKONING_TEST_PROXY")), reason="no test database to proxy"),
]

# The lease outlasts a run, as production's 900 s outlasts the worker's timeout: a live worker keeps its claim.
LEASE_S, STALE_S, SWEEP_S = 8, 1, 0.5
BOUND_S = LEASE_S + STALE_S + SWEEP_S  # the README's bound for a worker that died holding its lease
RUN_S = 10.0  # one run on a restarted stack: a cold start (imports, fonts), the model call, a PDF, an email


@dataclass
class Serve:
    """`python -m reckoning_local serve` in a process of its own."""

    state: Path
    environment: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    url: str = ""

    def start(self) -> float:
        """Start, and wait until it answers; the moment it did."""
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "reckoning_local", "serve", "--port", str(port), "--state", str(self.state),
                   "--schedule-every", str(SWEEP_S)]  # fmt: skip
        with (self.state.parent / "serve.log").open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(command, env=self.environment, cwd=ROOT, stdout=log, stderr=log)  # noqa: S603
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.state.parent / "serve.log").read_text()[-3000:]
            try:
                if client.request("GET", f"{self.url}/api/questionnaire", timeout_s=2).status == 200:
                    return time.monotonic()
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("the local stack did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)

    def database(self) -> psycopg.Connection[Any]:
        """The stack's own embedded database (its URL is in the stack.env it writes)."""
        lines = (self.state / "stack.env").read_text().splitlines()
        url = next(line.split("=", 1)[1] for line in lines if line.startswith("DATABASE_URL="))
        return psycopg.connect(url, autocommit=True)


@pytest.fixture
def stub() -> Iterator[AnthropicStub]:
    server = AnthropicStub().start()
    yield server
    server.stop()


@pytest.fixture
def serve(tmp_path: Path, stub: AnthropicStub) -> Iterator[Serve]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "STRIPE_", "RESEND_"))}
    environment.update(
        ENVIRONMENT="local",
        ANTHROPIC_BASE_URL=stub.url,  # outside production it stands in for a key: the SDK talks to the stub
        ANTHROPIC_TIMEOUT_S="10",
        GENERATION_LEASE_S=str(LEASE_S),
        GENERATION_STALE_AFTER_S=str(STALE_S),
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
    runner = Serve(tmp_path / "state", environment)
    yield runner
    runner.stop()
    postmaster = tmp_path / "state" / "postgres" / "postmaster.pid"
    if postmaster.exists():  # the killed stack left its embedded PostgreSQL running; the restart reused it
        os.kill(int(postmaster.read_text().split()[0]), signal.SIGTERM)


def pay(url: str) -> str:
    """Submit, open the offline checkout and press Pay: its 303 means the webhook answered 200."""
    token: str = client.request("POST", f"{url}/api/reckoning", json_body=submission()).data["token"]
    checkout_url = client.request("POST", f"{url}/api/checkout", json_body={"token": token}).data["checkoutUrl"]
    assert client.request("POST", checkout_url).status == 303
    return token


def status(url: str, token: str) -> str:
    state: str = client.request("GET", f"{url}/api/report/{token}").data["status"]
    return state


def ready_after(serve: Serve, token: str, restarted: float) -> float:
    """Seconds from the restart until the reckoning is ready (failing past the bound)."""
    while (now := status(serve.url, token)) != "ready":
        assert time.monotonic() - restarted < BOUND_S + RUN_S, f"still {now}"
        time.sleep(0.2)
    return time.monotonic() - restarted


def test_a_stack_killed_mid_order_finishes_it_once_after_a_restart(serve: Serve, stub: AnthropicStub) -> None:
    # Killed right after the webhook's ack: the queued job dies with the process (moto lives in it)
    stub.then(claude.slow(30.0))  # the first model call hangs: a worker may be inside it when the stack dies
    serve.start()
    first = pay(serve.url)
    serve.kill()
    stub.reset()  # the model answers at once from now on
    after_ack = ready_after(serve, first, serve.start())

    # Killed again, on the same state, while a worker is inside the model call for a second order
    stub.then(claude.slow(30.0))
    second = pay(serve.url)
    deadline = time.monotonic() + 30
    while not stub.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stub.requests, "the worker never called the model"
    serve.kill()
    stub.reset()
    mid_call = ready_after(serve, second, serve.start())

    # Each order once: one report version, one report email
    emails = sorted((serve.state / "outbox").glob("report-ready*.eml"))
    assert len(emails) == 2
    with serve.database() as conn:
        reports = conn.execute("SELECT version, released FROM reports ORDER BY created_at").fetchall()
        assert reports == [(1, True), (1, True)]
        assert conn.execute("SELECT count(*) FROM emails WHERE status = 'sent'").fetchone() == (2,)
    print(f"\nready after the restart: {after_ack:.1f} s (killed right after the webhook's ack),"
          f" {mid_call:.1f} s (killed during the model call); bound {BOUND_S} s + one run")  # fmt: skip
