"""A real Chromium, driven by Playwright, against the local stack serving `web/` and the API on one origin.

The browser: `CHROMIUM_PATH`, else Playwright's own (`.venv/bin/playwright install chromium`), else the system's
`/usr/bin/chromium` (`apt-get install chromium`). With none, every browser test fails and says how to get one,
unless `RECKONING_SKIP_BROWSER=1` asks to skip them (never set in CI: `.ci/run` installs Chromium).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from reckoning_local import client
from tests.conftest import StartStack
from tests.helpers import submission

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright

    from reckoning_local.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
NO_BROWSER = (
    "No Chromium for the browser tests. Get one with `.venv/bin/playwright install chromium` (Playwright's own), "
    "or `apt-get install chromium` (Debian/Ubuntu), or point CHROMIUM_PATH at a Chromium or Chrome binary. "
    "RECKONING_SKIP_BROWSER=1 skips these tests instead."
)


def chromium_executable(playwright: Playwright) -> Path | None:
    """The browser to drive: CHROMIUM_PATH, Playwright's own installed Chromium, the system's; None if none."""
    if configured := os.environ.get("CHROMIUM_PATH"):
        return Path(configured)
    own = Path(playwright.chromium.executable_path)
    if own.is_file():
        return own
    return SYSTEM_CHROMIUM if SYSTEM_CHROMIUM.is_file() else None


@dataclass
class Figures:
    """What the suite measured, printed in the terminal summary."""

    lines: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: str) -> None:
        self.lines[name] = value


FIGURES = Figures()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES.lines:
        terminalreporter.section("browser figures")
        for name, value in FIGURES.lines.items():
            terminalreporter.write_line(f"{name}: {value}")


@pytest.fixture(scope="session")
def figures() -> Figures:
    FIGURES.add("pages", str(len(pages_of_the_client())))
    FIGURES.add("page weight", f"{web_weight()} bytes (all of web/, uncompressed, no third-party requests)")
    return FIGURES


def pages_of_the_client() -> list[str]:
    return sorted(str(p.relative_to(WEB)) for p in WEB.rglob("*.html"))


def web_weight() -> int:
    return sum(p.stat().st_size for p in WEB.rglob("*") if p.is_file() and p.name != "README.md")


@pytest.fixture(scope="module")  # Playwright's event loop lives no longer than the module that needs it
def browser() -> Iterator[Browser]:
    if os.environ.get("RECKONING_SKIP_BROWSER") == "1":
        pytest.skip("RECKONING_SKIP_BROWSER=1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        executable = chromium_executable(playwright)
        if executable is None or not executable.is_file():
            pytest.fail(NO_BROWSER if executable is None else f"CHROMIUM_PATH={executable} is not a file. {NO_BROWSER}")
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page, with what went wrong in it: uncaught exceptions, CSP violations, console errors."""

    page: Page
    stack: Stack
    problems: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # (type, url, headers)

    def url(self, path: str) -> str:
        return self.stack.url + path


@pytest.fixture
def site(start_stack: StartStack) -> Stack:
    """The whole local stack serving web/ at /: pollers on (payments become reports), the sweeper every second
    (it relays the lost-link emails' jobs)."""
    return start_stack(schedules=True, schedule_period_s=1.0)


def open_page(browser: Browser, stack: Stack, **options: Any) -> tuple[BrowserContext, Watched]:
    context = browser.new_context(base_url=stack.url, accept_downloads=True, **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watched = Watched(page, stack)

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            watched.problems.append(f"CSP: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: watched.problems.append(f"uncaught: {error}"))
    page.on("request", lambda r: watched.requests.append((r.resource_type, r.url, r.headers)))
    return context, watched


@pytest.fixture
def web(browser: Browser, site: Stack) -> Iterator[Watched]:
    """A fresh browser context on the stack; after the test, no script error and no CSP violation happened."""
    context, watched = open_page(browser, site)
    yield watched
    context.close()
    assert watched.problems == []


def paid_report(stack: Stack, timeout_s: float = 60) -> str:
    """A token whose report is ready, bought over HTTP (submit, checkout, the offline Pay button)."""
    base = stack.url
    token: str = client.request("POST", f"{base}/api/reckoning", json_body=submission()).data["token"]
    checkout_url = client.request("POST", f"{base}/api/checkout", json_body={"token": token}).data["checkoutUrl"]
    assert client.request("POST", checkout_url).status == 303
    deadline = time.monotonic() + timeout_s
    while client.request("GET", f"{base}/api/report/{token}").data["status"] != "ready":
        assert time.monotonic() < deadline, "the report was not ready in time"
        time.sleep(0.2)
    return token
