"""How email leaves: Resend, or (outside production, without `RESEND_API_KEY`) `.eml` files in a local outbox.

What the emails say is composed in `domain/services/letters.py`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reckoning.errors import PermanentFailure, TransientFailure
from reckoning.observability import TRACE, logger
from reckoning.ports import OutgoingEmail

if TYPE_CHECKING:
    from email.message import EmailMessage

    from resend.exceptions import ResendError

RESEND_API_URL = "https://api.resend.com"
SEND_TIMEOUT_S = 10
QUOTA_ERRORS = frozenset({"daily_quota_exceeded", "monthly_quota_exceeded"})
# 409 concurrent_idempotent_requests: the same key is still being processed; try again later.
TRANSIENT_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True, slots=True)
class ResendMailer:
    """Sends through the Resend API; failures become TransientFailure (retry later) or PermanentFailure."""

    api_key: Callable[[], str] = field(repr=False)  # read when first needed (Secrets Manager in production)
    _: KW_ONLY
    sender: str
    base_url: str | None = None
    timeout_s: int = SEND_TIMEOUT_S

    @TRACE
    def send(self, email: OutgoingEmail, to: str, idempotency_key: str) -> str:
        import resend
        from resend.exceptions import ResendError

        # The SDK keeps its configuration in module globals; set them for this call.
        resend.api_key = self.api_key()
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

    def __init__(self, directory: Path, *, sender: str = "Reckoning <reports@reckoning.local>") -> None:
        self.directory = directory
        self._sender = sender

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


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
