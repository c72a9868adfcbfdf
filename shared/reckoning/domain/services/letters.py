"""The two emails we send, composed: a report is ready, and lost-link recovery.

Every value put into a message (name, report title, link labels) is escaped in the HTML part. Links are
report-page links carrying an access token, never presigned storage URLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlsplit

from reckoning.ports import OutgoingEmail

KEY_NOTE = (
    "This link is private and works like a key: anyone who has it can open your report. "
    "Please keep it to yourself rather than forwarding this email."
)
KEYS_NOTE = (
    "These links are private and work like keys: anyone who has one can open that report. "
    "Please keep them to yourself rather than forwarding this email."
)
IGNORE_NOTE = "If you did not ask for this, you can ignore this email: nothing has changed."


def compose_report_ready(name: str | None, report_link: str, title: str) -> OutgoingEmail:
    """The email that announces a finished report."""
    _check_link(report_link)
    greeting = f"Hi {name.strip()}," if name and name.strip() else "Hello,"
    ready = "Your Reckoning is ready \u2014 "
    parts = [
        _said(greeting),
        (f"{ready}\u201c{title}\u201d", _p(f"{ready}<strong>\u201c{escape(title)}\u201d</strong>")),
        (f"Open your report:\n{report_link}", _button(report_link, "Open your report")),
        _said("You can read it there and download it as a PDF."),
        _said(KEY_NOTE, small=True),
        ("", _fallback([report_link])),
        ("Take your time with it.\n\n\u2014 Reckoning", _p("Take your time with it.<br>\u2014 Reckoning")),
    ]
    return _email("Your Reckoning is ready", parts)


def compose_report_links(links: Sequence[tuple[str, str]]) -> OutgoingEmail:
    """Fresh links for lost-link recovery: one `(label, link)` per report, label a title or a date."""
    if not links:
        raise ValueError("nothing to send: no report links")
    for _, link in links:
        _check_link(link)
    one = len(links) == 1
    opening = "We received a request for fresh links to your Reckoning reports. " + (
        "Here is the link to your report." if one else "Here is one for each of your reports."
    )
    parts = [
        _said("Hello,"),
        _said(opening),
        *(_link(label, link) for label, link in links),
        _said(KEY_NOTE if one else KEYS_NOTE, small=True),
        _said(IGNORE_NOTE, small=True),
        ("", _fallback([link for _, link in links])),
        _said("\u2014 Reckoning"),
    ]
    return _email("Your Reckoning report link" if one else "Your Reckoning report links", parts)


# One block of an email as plain text and as HTML ("": the block has no text part).
type Part = tuple[str, str]


def _said(text: str, small: bool = False) -> Part:
    return text, _p(escape(text), small)


def _link(label: str, link: str) -> Part:
    return f"{label}\n{link}", _p(f"<strong>{escape(label)}</strong>") + _button(link, "Open this report")


def _email(subject: str, parts: Sequence[Part]) -> OutgoingEmail:
    text = "\n\n".join(plain for plain, _ in parts if plain)
    return OutgoingEmail(subject=subject, html=_page([html for _, html in parts]), text=text)


def _check_link(link: str) -> None:
    parts = urlsplit(link)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError("report links must be absolute http(s) URLs")
    if "X-Amz-Signature" in parts.query:
        raise ValueError("email the report page link, never a presigned storage URL")


def _page(body: Sequence[str]) -> str:
    content = "\n".join(body)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>\n'
        '<body style="margin:0;padding:24px;background:#f6f5f2;">\n'
        '<div style="max-width:560px;margin:0 auto;padding:32px;background:#ffffff;border-radius:8px;'
        "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:16px;line-height:1.6;"
        'color:#222222;">\n'
        f"{content}\n</div>\n</body></html>\n"
    )


def _p(inner_html: str, small: bool = False) -> str:
    style = "margin:0 0 16px;" + ("font-size:14px;color:#666666;" if small else "")
    return f'<p style="{style}">{inner_html}</p>'


def _button(link: str, label: str) -> str:
    return (
        '<p style="margin:24px 0;">'
        f'<a href="{escape(link)}" style="display:inline-block;padding:12px 22px;background:#2e546e;'
        f'color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600;">{escape(label)}</a></p>'
    )


def _fallback(links: Sequence[str]) -> str:
    addresses = "<br>".join(f'<span style="word-break:break-all;">{escape(link)}</span>' for link in links)
    label = "If the button does not work" if len(links) == 1 else "If the buttons do not work"
    return _p(f"{label}, copy this address into your browser:<br>{addresses}", small=True)
