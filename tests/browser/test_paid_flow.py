"""The whole paid flow in a real Chromium: questionnaire, field errors, checkout, report, PDF, recovery, export,
erasure — through accessible locators only (labels and roles), as a screen reader user would find things."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from reckoning_local import client
from tests.browser.conftest import Figures, Watched
from tests.helpers import SAMPLE_ANSWERS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TOKEN_IN_FRAGMENT = re.compile(r"/report#(?P<token>[A-Za-z0-9_-]{43})$")


def questionnaire(web: Watched) -> list[dict[str, Any]]:
    questions: list[dict[str, Any]] = client.request("GET", web.url("/api/questionnaire")).data["questions"]
    return questions


def answer(page: Page, question: dict[str, Any], value: Any) -> None:
    """Answer one question the way a person would, finding it by its visible prompt."""
    prompt = re.compile(re.escape(question["prompt"]))
    kind = question["type"]
    if kind in ("text", "number"):
        page.get_by_label(prompt).fill(str(value))
        return
    group = page.get_by_role("group", name=prompt)
    if kind == "scale":
        group.get_by_label(str(value), exact=True).check()
    elif kind == "choice":
        label = next(o["label"] for o in question["options"] if o["value"] == value)
        group.get_by_label(label, exact=True).check()
    else:
        for option in question["options"]:
            if option["value"] in value:
                group.get_by_label(option["label"], exact=True).check()


def test_a_person_buys_reads_keeps_recovers_and_erases_a_report_in_the_browser(
    web: Watched, figures: Figures, tmp_path: Path
) -> None:
    page = web.page
    questions = questionnaire(web)
    by_id = {q["id"]: q for q in questions}

    # Given the questionnaire, answered, with one answer too short, an address the server refuses, no consent
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your Reckoning")
    for question in questions:
        if question["id"] in SAMPLE_ANSWERS:
            answer(page, question, SAMPLE_ANSWERS[question["id"]])
    short = page.get_by_label(re.compile(re.escape(by_id["one_sentence"]["prompt"])))
    short.fill("Drifting")
    page.get_by_label("Email address").fill("ada@example.c")
    page.get_by_label(re.compile("first name")).fill("Ada")
    submit = page.get_by_role("button", name="Continue to payment")

    # When it is sent: the page's own checks catch the short answer and the missing consent, nothing is sent
    submit.click()
    expect(page.get_by_role("heading", name="2 answers need your attention")).to_be_visible()
    expect(short).to_have_accessible_description(re.compile("Please write at least 10 characters"))
    expect(short).to_have_attribute("aria-invalid", "true")
    consent = page.get_by_label(re.compile("I agree that my answers"))
    expect(consent).to_have_accessible_description(re.compile("Please agree"))
    assert not [url for kind, url, _ in web.requests if "/api/reckoning" in url]

    # ... fixed, the server's field error (the address) appears at its field
    short.fill("Busy and mostly fine on paper, but I feel like I am drifting.")
    consent.check()
    submit.click()
    email = page.get_by_label("Email address")
    expect(email).to_have_accessible_description(re.compile("Must be a valid email address"))
    expect(short).not_to_have_attribute("aria-invalid", "true")

    # ... fixed too: the answers are saved and the (offline) Stripe Checkout opens
    email.fill("ada@example.com")
    submit.click()
    page.wait_for_url(re.compile(r"/_local/checkout/"))
    [(_, _, posted)] = [(k, u, h) for k, u, h in web.requests if u.endswith("/api/reckoning")][-1:]
    assert re.fullmatch(r"[0-9a-f-]{36}", posted["idempotency-key"])

    # When the person pays, they come back and the report appears
    paid_at = time.monotonic()
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url(TOKEN_IN_FRAGMENT)
    found = TOKEN_IN_FRAGMENT.search(page.url)
    assert found is not None
    token = found["token"]
    report = client.request("GET", web.url(f"/api/report/{token}")).data
    while report["status"] != "ready":
        time.sleep(0.1)
        report = client.request("GET", web.url(f"/api/report/{token}")).data
    title = page.get_by_role("heading", level=1, name=report["report"]["title"])
    expect(title).to_be_visible(timeout=60_000)
    figures.add("time from Pay to the report on screen", f"{time.monotonic() - paid_at:.1f} s")

    # Then the report reads as written, as text
    section = report["report"]["sections"][0]
    expect(page.get_by_role("heading", level=2, name=section["heading"])).to_be_visible()
    expect(page.get_by_text(section["body"].split("\n\n")[0], exact=True)).to_be_visible()
    expect(page.locator("#announcer")).to_have_text("Your report is ready.")
    # ... and is revalidated, not fetched again, when the person comes back to the tab
    with page.expect_response(lambda r: r.url.endswith(f"/api/report/{token}") and r.status == 304) as revalidated:
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    assert revalidated.value.request.headers["if-none-match"] == report_etag(web, token)
    # The token never reached a server in a page address, a query or a Referer; Stripe got the session id only
    for kind, url, headers in web.requests:
        assert not headers.get("referer"), url  # Playwright lists an empty one when none is sent
        if kind == "document":
            assert token not in url.split("#")[0], url
    [back] = [url for kind, url, _ in web.requests if kind == "document" and "/checkout/success" in url]
    assert re.search(r"session_id=cs_test_local_[0-9a-f]{40}$", back)

    # And the PDF downloads
    with page.expect_download() as pdf:
        page.get_by_role("link", name="Download the PDF").click()
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")

    # And the export is everything, as a JSON file
    with page.expect_download() as exported:
        page.get_by_role("button", name=re.compile("Export all my data")).click()
    assert exported.value.suggested_filename.endswith(".json")
    data = json.loads(Path(exported.value.path()).read_text())
    assert data["reckoning"]["email"] == "ada@example.com"
    assert {a["questionId"] for a in data["answers"]} >= {"one_sentence", "proud_of"}

    # When the link is lost, fresh ones come by email, and the emailed link opens the report page
    outbox = web.stack.state_dir / "outbox"
    before = set(outbox.glob("*.eml"))
    page.goto("/recover")
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_role("button", name="Email me my links").click()
    expect(page.get_by_role("main").get_by_text("If this address has reports with us")).to_be_visible()
    link = emailed_link(outbox, before)
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name=report["report"]["title"])).to_be_visible()

    # When the person erases their data, after confirming
    page.get_by_role("button", name="Erase my data").click()
    dialog = page.get_by_role("dialog", name="Erase everything?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Erase for good").click()

    # Then it is gone, and so is every link to it
    expect(page.get_by_role("heading", level=1, name="Your data is gone")).to_be_visible()
    assert token not in page.url
    page.goto(f"/report#{token}")
    expect(page.get_by_role("heading", level=1, name="This link does not open a report")).to_be_visible()
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="This link does not open a report")).to_be_visible()


def report_etag(web: Watched, token: str) -> str:
    etag: str = client.request("GET", web.url(f"/api/report/{token}")).headers["etag"]
    return etag


def emailed_link(outbox: Path, before: set[Path], timeout_s: float = 30) -> str:
    """The report link in the first new email of the local outbox."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for path in set(outbox.glob("*.eml")) - before:
            found = re.search(r"https?://[^\s\"'<>]+/report#[A-Za-z0-9_-]{43}", path.read_text())
            if found:
                return found[0]
        time.sleep(0.1)
    raise AssertionError("no link email arrived")


def test_a_retry_after_a_lost_answer_sends_the_same_idempotency_key(web: Watched) -> None:
    page = web.page
    page.goto("/")
    for question in questionnaire(web):
        if question["id"] in SAMPLE_ANSWERS:
            answer(page, question, SAMPLE_ANSWERS[question["id"]])
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_label(re.compile("I agree that my answers")).check()
    lost: list[str] = []

    def lose_the_first(route: Route) -> None:
        if not lost:
            lost.append(route.request.headers["idempotency-key"])
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r".*/api/reckoning$"), lose_the_first)
    page.get_by_role("button", name="Continue to payment").click()
    problem = page.get_by_role("alert").filter(has_text="Your answers were not sent")
    expect(problem).to_contain_text("could not reach Reckoning")
    problem.get_by_role("button", name="Try again").click()
    page.wait_for_url(re.compile(r"/_local/checkout/"))

    keys = [h["idempotency-key"] for _, url, h in web.requests if url.endswith("/api/reckoning")]
    assert keys == [lost[0], lost[0]]
