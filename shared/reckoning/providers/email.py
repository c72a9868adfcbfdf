"""Email: the two messages we send, and how they leave — Resend, or an offline outbox.

Every value put into a message (name, report title, link labels) is escaped in
the HTML part. Links are report-page links carrying an access token, never
presigned S3 URLs. Without `RESEND_API_KEY`, outside production, messages are
written as `.eml` files into the local outbox instead of being sent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from reckoning.config import secret, settings
from reckoning.errors import PermanentFailure, TransientFailure
from reckoning.observability import logger
from reckoning.providers import choose

if TYPE_CHECKING:
    from email.message import EmailMessage

    from resend.exceptions import ResendError

RESEND_API_URL = "https://api.resend.com"
SEND_TIMEOUT_S = 10
QUOTA_ERRORS = frozenset({"daily_quota_exceeded", "monthly_quota_exceeded"})
# 409 concurrent_idempotent_requests: the same key is still being processed; try again later.
TRANSIENT_STATUSES = frozenset({408, 409, 429})

KEY_NOTE = (
    "This link is private and works like a key: anyone who has it can open your report. "
    "Please keep it to yourself rather than forwarding this email."
)
KEYS_NOTE = (
    "These links are private and work like keys: anyone who has one can open that report. "
    "Please keep them to yourself rather than forwarding this email."
)
IGNORE_NOTE = "If you did not ask for this, you can ignore this email: nothing has changed."


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """A composed message; the recipient is given when it is sent."""

    subject: str
    html: str
    text: str


class Mailer(Protocol):
    def send(self, email: OutgoingEmail, to: str, idempotency_key: str) -> str:
        """Send once per idempotency key; return the provider's message id (the same id on a repeat).

        Resend remembers a key for 24 hours: the `emails` table is what keeps a later repeat from sending.
        """
        ...


# --- composing -------------------------------------------------------------------------------------------------


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


# --- sending -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResendMailer:
    """Sends through the Resend API; failures become TransientFailure (retry later) or PermanentFailure."""

    api_key: str = field(repr=False)
    _: KW_ONLY
    sender: str
    base_url: str | None = None
    timeout_s: int = SEND_TIMEOUT_S

    def send(self, email: OutgoingEmail, to: str, idempotency_key: str) -> str:
        import resend
        from resend.exceptions import ResendError

        # The SDK keeps its configuration in module globals; set them for this call.
        resend.api_key = self.api_key
        resend.api_url = (self.base_url or RESEND_API_URL).rstrip("/")
        resend.default_http_client = resend.RequestsClient(timeout=self.timeout_s)
        params: resend.Emails.SendParams = {
            "from": self.sender,
            "to": [to],
            "subject": email.subject,
            "html": email.html,
            "text": email.text,
        }
        try:
            sent = resend.Emails.send(params, {"idempotency_key": idempotency_key})
        except ResendError as exc:
            if exc.error_type == "invalid_idempotent_request":
                # The key was already used with another body (a retry mints a fresh link): the first went out.
                return f"duplicate-{_digest(idempotency_key)[:32]}"
            raise classify(exc) from None  # the SDK's message may quote the request: keep it out of logs
        return sent["id"]


def classify(exc: ResendError) -> TransientFailure | PermanentFailure:
    """Which Resend errors are worth retrying: rate limits and server trouble, not quota or bad requests."""
    status = int(exc.code) if str(exc.code).isdigit() else 500
    cause = f"Resend {status} {exc.error_type}"
    if exc.error_type in QUOTA_ERRORS:
        # Retrying within minutes cannot help and would only spin: stop, and let the alert say why.
        return PermanentFailure(f"{cause}: the sending quota is used up", kind="email_quota")
    if status >= 500 or status in TRANSIENT_STATUSES:
        return TransientFailure(cause)
    return PermanentFailure(cause, kind="auth" if status in (401, 403) else "invalid_request")


class OutboxMailer:
    """Writes each message as a `.eml` file instead of sending it: local runs and tests without a key."""

    def __init__(self, directory: Path, *, sender: str | None = None) -> None:
        self.directory = directory
        self._sender = sender or settings().email_from

    def path_for(self, idempotency_key: str) -> Path:
        """The file a key's message is written to: readable, safe, and distinct per key."""
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", idempotency_key).strip("._")[:80]
        return self.directory / f"{readable or 'email'}-{_digest(idempotency_key)[:12]}.eml"

    def send(self, email: OutgoingEmail, to: str, idempotency_key: str) -> str:
        message_id = f"outbox-{_digest(idempotency_key)[:32]}"
        path = self.path_for(idempotency_key)
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("xb") as file:  # exclusive create: a repeated key never writes twice
                file.write(self._message(email, to, message_id).as_bytes())
            logger.info(
                "email written to the offline outbox (RESEND_API_KEY not set)", extra={"message_id": message_id}
            )
        except FileExistsError:
            logger.info("email already in the offline outbox", extra={"message_id": message_id})
        return message_id

    def _message(self, email: OutgoingEmail, to: str, message_id: str) -> EmailMessage:
        from email.message import EmailMessage
        from email.utils import formatdate

        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = f"<{message_id}@outbox.reckoning.local>"
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message


def mailer() -> Mailer:
    """Resend when `RESEND_API_KEY` is set; else, outside production, the offline outbox."""
    s = settings()
    api_key = secret("RESEND_API_KEY")

    def resend() -> Mailer:
        return ResendMailer(api_key or "", sender=s.email_from, base_url=s.resend_base_url)

    return choose("RESEND_API_KEY", resend if api_key else None, lambda: OutboxMailer(Path(s.local_outbox_dir)))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
