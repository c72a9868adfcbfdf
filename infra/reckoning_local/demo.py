"""`make demo`: start the local stack, then walk the product over real HTTP, printing each step.

The walk is a list of small steps; each takes the shared `Demo` state, does one
thing, and returns a one-line summary (or raises `DemoFailed`). Add a step by
writing a function and putting it into `STEPS`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reckoning_local import client
from reckoning_local.stack import Stack, StackOptions

SAMPLE_SUBMISSION = Path(__file__).with_name("sample_submission.json")


class DemoFailed(Exception):
    """A step did not get what it expected; the message says what happened."""


@dataclass
class Demo:
    stack: Stack
    token: str = ""
    report_path: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # anything later steps need

    def call(self, method: str, path: str, *, expect: int, json_body: Any = None) -> client.HttpResult:
        result = client.request(method, self.stack.url + path, json_body=json_body)
        if result.status != expect:
            raise DemoFailed(f"{method} {path} answered {result.status}, expected {expect}: {result.raw[:300]!r}")
        return result

    def say(self, line: str) -> None:
        print(f"    {line}")


Step = Callable[[Demo], str]


def shorten(token: str) -> str:
    """Enough of a token to recognise it, not enough to use it."""
    return f"{token[:6]}…{token[-4:]}" if len(token) > 12 else "…"


def fetch_questionnaire(demo: Demo) -> str:
    data = demo.call("GET", "/api/questionnaire", expect=200).data
    return f"version {data['version']}, {len(data['questions'])} questions"


def submit_answers(demo: Demo) -> str:
    body = json.loads(SAMPLE_SUBMISSION.read_text())
    data = demo.call("POST", "/api/reckoning", json_body=body, expect=201).data
    demo.token, demo.report_path = data["token"], data["reportUrl"]
    return f"201 {data['status']}; token {shorten(demo.token)} (only its hash is stored)"


def check_report_status(demo: Demo) -> str:
    result = demo.call("GET", demo.report_path, expect=200)
    retry = result.headers.get("retry-after")
    return f"status {result.data['status']}" + (f", Retry-After {retry} s" if retry else "")


def start_checkout(demo: Demo) -> str:
    data = demo.call("POST", "/api/checkout", json_body={"token": demo.token}, expect=200).data
    demo.facts["checkout_url"] = data["checkoutUrl"]
    where = "the offline checkout page" if "/_local/checkout/" in data["checkoutUrl"] else "Stripe Checkout"
    return f"{data['amount'] / 100:.2f} {data['currency'].upper()} on {where} (session {data['sessionId'][:20]}…)"


def pay(demo: Demo) -> str:
    url = demo.facts["checkout_url"]
    if "/_local/checkout/" not in url:
        raise DemoFailed(f"STRIPE_SECRET_KEY is set: pay in a browser at {url}, then run `make dev` to follow along")
    page = client.request("GET", url)
    if page.status != 200 or b"Pay" not in page.raw:
        raise DemoFailed(f"the checkout page answered {page.status}")
    paid = client.request("POST", url)  # the Pay button: a signed checkout.session.completed to the webhook
    if paid.status != 303:
        raise DemoFailed(f"paying answered {paid.status}: {paid.raw[:200]!r}")
    status = demo.call("GET", demo.report_path, expect=200).data["status"]
    return f"signed webhook accepted; reckoning is {status}"


def wait_for_report(demo: Demo, timeout_s: float = 120.0) -> str:
    started, last = time.monotonic(), ""
    while time.monotonic() - started < timeout_s:
        data = demo.call("GET", demo.report_path, expect=200).data
        if data["status"] != last:
            demo.say(f"{time.monotonic() - started:5.1f} s  {data['status']}")
            last = data["status"]
        if data["status"] == "ready":
            demo.facts["report"] = data
            return f"ready after {time.monotonic() - started:.1f} s, confidence {data['confidence']:.2f}"
        if data["status"] in {"failed", "needs_review", "refunded"}:
            raise DemoFailed(f"the reckoning ended {data['status']}: {data.get('message', '')}")
        time.sleep(0.25)
    raise DemoFailed(f"still {last} after {timeout_s:.0f} s")


def show_validation(demo: Demo) -> str:
    report = demo.facts["report"]["report"]
    demo.say(f"“{report['title']}” — {len(report['sections'])} sections, {len(report['nextSteps'])} next steps")
    with demo.stack.database() as conn:
        row = conn.execute("SELECT layer_results FROM reports ORDER BY created_at DESC LIMIT 1").fetchone()
    results = row[0] if row else {}
    layers = results.get("layers", [])
    for layer in layers:
        mark = "pass" if layer["passed"] else "FAIL"
        how = layer.get("decided", "certain")  # a rule decided it, or the judge did
        demo.say(f"  {layer['layer']:<13} {how:<8} {layer['score']:.2f}  {mark}  {layer['reason']}")
    judge = (results.get("judge") or {}).get("model", "none")
    certain = sum(layer.get("decided") == "certain" for layer in layers)
    passed = sum(layer["passed"] for layer in layers)
    judged = len(layers) - certain
    return f"{passed}/{len(layers)} layers passed: {certain} decided by rules, {judged} by the judge ({judge})"


def fetch_pdf(demo: Demo) -> str:
    redirect = demo.call("GET", demo.report_path + "/pdf", expect=302)
    location = redirect.headers["location"]
    pdf = client.request("GET", location)
    if pdf.status != 200 or not pdf.raw.startswith(b"%PDF"):
        raise DemoFailed(f"the presigned URL answered {pdf.status}")
    saved = demo.stack.save_objects()
    files = sorted(saved.rglob("*.pdf"), key=lambda p: p.stat().st_mtime)
    demo.say(f"PDF saved at {files[-1] if files else saved}")
    return f"302 to a presigned URL; {len(pdf.raw) / 1024:.0f} KiB PDF"


def show_email(demo: Demo) -> str:
    outbox = Path(demo.stack.environment.get("LOCAL_OUTBOX_DIR", demo.stack.state_dir / "outbox"))
    emails = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime)
    if not emails:
        raise DemoFailed(f"no email in {outbox}")
    demo.say(f"email at {emails[-1]}")
    return "the email links to the report with a fresh token"


STEPS: list[tuple[str, Step]] = [
    ("Fetch the questionnaire", fetch_questionnaire),
    ("Submit the sample answers", submit_answers),
    ("Look at the report status", check_report_status),
    ("Start checkout", start_checkout),
    ("Pay on the checkout page", pay),
    ("Wait for the report", wait_for_report),
    ("Check the ten layers of the quality gate (rules, then the judge)", show_validation),
    ("Fetch the PDF", fetch_pdf),
    ("Find the email", show_email),
]


def run() -> int:
    """Start a stack on a free port, run the steps in order; 0 when all passed."""
    started = time.monotonic()
    print("Starting the local stack…")
    with Stack(StackOptions(port=0, schedules=False)) as stack:
        print(f"  up at {stack.url} in {time.monotonic() - started:.1f} s\n")
        demo = Demo(stack)
        for number, (title, step) in enumerate(STEPS, 1):
            if not run_step(demo, number, title, step):
                return 1
    print(f"\nDone in {time.monotonic() - started:.1f} s.")
    return 0


def run_step(demo: Demo, number: int, title: str, step: Step) -> bool:
    print(f"{number}. {title}")
    started = time.monotonic()
    try:
        summary = step(demo)
    except DemoFailed as exc:
        print(f"   ✗ {exc}")
        return False
    print(f"   ✓ {summary}  ({(time.monotonic() - started) * 1000:.0f} ms)")
    return True
