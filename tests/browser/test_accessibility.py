"""Every page and state of the web client: axe-core finds nothing serious or critical; the questionnaire can be
answered and sent with the keyboard alone, focus always visible; nothing scrolls sideways on a 375 px phone;
an error names the request id to quote to support."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from reckoning_local import client
from reckoning_local.stack import Stack
from tests.browser.conftest import Figures, Watched, open_page, paid_report
from tests.helpers import SAMPLE_ANSWERS, submission

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

BLOCKING = {"serious", "critical"}


def unpaid(stack: Stack) -> str:
    token: str = client.request("POST", f"{stack.url}/api/reckoning", json_body=submission()).data["token"]
    return token


def heading(page: Page, name: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def visit(path: str, title: str | re.Pattern[str]) -> Callable[[Page], None]:
    def reach(page: Page) -> None:
        page.goto(path)
        heading(page, title)

    return reach


def states(stack: Stack) -> list[tuple[str, Callable[[Page], None]]]:
    """(name, how to reach it) for every page and state of the client."""
    ready, reviewed = paid_report(stack), unpaid(stack)
    with stack.database() as conn:
        conn.execute("UPDATE reckonings SET status = 'needs_review' WHERE status = 'awaiting_payment'")
    waiting = unpaid(stack)

    def questionnaire(page: Page) -> None:
        page.goto("/")
        heading(page, "Your Reckoning")

    def questionnaire_errors(page: Page) -> None:
        questionnaire(page)
        page.get_by_role("button", name="Continue to payment").click()
        expect(page.get_by_role("heading", name=re.compile("answers need your attention"))).to_be_visible()

    def report(page: Page) -> None:
        page.goto(f"/report#{ready}")
        expect(page.get_by_role("button", name="Erase my data")).to_be_visible()

    def erase_dialog(page: Page) -> None:
        report(page)
        page.get_by_role("button", name="Erase my data").click()
        expect(page.get_by_role("dialog")).to_be_visible()

    def waiting_for_payment(page: Page) -> None:
        page.goto(f"/report#{waiting}")
        heading(page, "Your report is on its way")
        expect(page.get_by_role("button", name="Pay and get my report")).to_be_visible()

    def cancel_with_token(page: Page) -> None:
        page.goto("/checkout/cancel")
        page.evaluate("t => sessionStorage.setItem('reckoning.token', t)", waiting)
        page.reload()
        expect(page.get_by_role("button", name="Pay and get my report")).to_be_visible()

    def recover_sent(page: Page) -> None:
        page.goto("/recover")
        page.get_by_label("Email address").fill("nobody@example.com")
        page.get_by_role("button", name="Email me my links").click()
        expect(page.get_by_role("main").get_by_text("If this address has reports")).to_be_visible()

    def erased(page: Page) -> None:  # the last state of the ready report
        report(page)
        page.get_by_role("button", name="Erase my data").click()
        page.get_by_role("button", name="Erase for good").click()
        heading(page, "Your data is gone")

    return [
        ("questionnaire", questionnaire),
        ("questionnaire with errors", questionnaire_errors),
        ("report, ready", report),
        ("report, erase dialog", erase_dialog),
        ("report, waiting for payment", waiting_for_payment),
        ("report, needs review", visit(f"/report#{reviewed}", re.compile("with a person"))),
        ("report, unknown token", visit("/report#" + "A" * 43, re.compile("does not open"))),
        ("checkout success", visit("/checkout/success?session_id=cs_test_x", re.compile("Thank"))),
        ("checkout cancel", visit("/checkout/cancel", "Payment cancelled")),
        ("checkout cancel, pay again", cancel_with_token),
        ("lost-link recovery", visit("/recover", "Lost your report link?")),
        ("lost-link recovery, sent", recover_sent),
        ("page not found", visit("/no/such/page", "This page does not exist")),
        ("report, erased", erased),
    ]


def test_axe_finds_nothing_serious_or_critical_on_any_page(web: Watched, figures: Figures) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    blocking: list[str] = []
    minor: Counter[str] = Counter()
    scanned = 0
    for name, reach in states(web.stack):
        reach(web.page)
        violations: list[dict[str, Any]] = axe.run(web.page).response["violations"]
        scanned += 1
        for violation in violations:
            where = [node["target"] for node in violation["nodes"]]
            if violation["impact"] in BLOCKING:
                blocking.append(f"{name}: {violation['id']} ({violation['impact']}) {violation['help']} at {where}")
            else:
                minor[f"{violation['id']} ({violation['impact']})"] += 1
    figures.add(
        "axe-core",
        f"{scanned} pages and states scanned, {len(blocking)} serious or critical, "
        f"{sum(minor.values())} moderate or minor{' ' + str(dict(minor)) if minor else ''}",
    )
    assert blocking == []


def test_the_questionnaire_is_answered_and_sent_with_the_keyboard_alone(web: Watched, figures: Figures) -> None:
    page = web.page
    page.goto("/")
    heading(page, "Your Reckoning")
    seen_groups: set[str] = set()
    presses = 0
    for presses in range(1, 250):  # noqa: B007 - the count is reported
        page.keyboard.press("Tab")
        focused: dict[str, Any] = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                return {tag: e.tagName, type: e.type || '', name: e.name || '', id: e.id, text: e.textContent.trim(),
                        outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth) || 0}; }"""
        )
        assert focused["outline"] != "none" and focused["outlineWidth"] >= 2, f"focus not visible on {focused}"
        question = focused["name"].removeprefix("answers.")
        if focused["tag"] == "BUTTON" and focused["type"] == "submit":
            page.keyboard.press("Enter")
            break
        if focused["type"] in {"radio", "checkbox"} and focused["name"] not in seen_groups:
            page.keyboard.press("Space")  # the first choice of each group (and the consent)
            seen_groups.add(focused["name"])
        elif focused["type"] == "email":
            page.keyboard.type("kim@example.com")
        elif focused["tag"] in {"INPUT", "TEXTAREA"} and focused["type"] in {"text", "number", "textarea"}:
            value = SAMPLE_ANSWERS.get(question)
            if value is not None:
                page.keyboard.type(str(value))
    page.wait_for_url(re.compile(r"/_local/checkout/"))
    figures.add("keyboard-only questionnaire", f"answered and sent in {presses} Tab stops, no mouse")


@pytest.mark.parametrize("width", [375])
def test_nothing_scrolls_sideways_on_a_phone(browser: Browser, site: Stack, width: int) -> None:
    context, watched = open_page(browser, site, viewport={"width": width, "height": 812}, is_mobile=True)
    wide: list[str] = []
    try:
        for name, reach in states(site):
            reach(watched.page)
            scroll, view = watched.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if scroll > view:
                wide.append(f"{name}: {scroll} px wide in a {view} px viewport")
    finally:
        context.close()
    assert wide == []
    assert watched.problems == []


@pytest.mark.parametrize(
    ("headers", "body_request_id"),
    [({"X-Request-Id": "req-7f3a9c"}, None), ({}, "req-7f3a9c")],
    ids=["from the X-Request-Id header", "from error.requestId"],
)
def test_an_error_shows_the_request_id_to_quote(
    web: Watched, headers: dict[str, str], body_request_id: str | None
) -> None:
    error: dict[str, Any] = {"code": "INTERNAL_ERROR", "message": "Internal error."}
    if body_request_id:
        error["requestId"] = body_request_id

    def fail(route: Route) -> None:
        route.fulfill(
            status=500,
            headers={"Content-Type": "application/json", **headers},
            body=json.dumps({"success": False, "error": error}),
        )

    web.page.route(re.compile(r".*/api/report/[^/]+$"), fail)
    web.page.goto("/report#" + "B" * 43)

    problem = web.page.get_by_role("alert")
    expect(problem).to_contain_text("Your report could not be loaded")
    expect(problem.get_by_text("req-7f3a9c")).to_be_visible()
    expect(problem.get_by_role("button", name="Try again")).to_be_visible()
