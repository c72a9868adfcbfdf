"""Email: what we write, how the real resend SDK sends it (against a local stub), and the offline outbox."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from reckoning import config
from reckoning.domain.services.letters import compose_report_links, compose_report_ready
from reckoning.errors import PermanentFailure, ServiceUnavailable, TransientFailure
from reckoning.ports import OutgoingEmail
from reckoning.providers.email import OutboxMailer, ResendMailer
from tests.helpers import Env, with_fakes
from tests.stubs import resend as resend_stub
from tests.stubs.resend import Failure, ResendStub

LINK = "https://reckoning.example/r/Zm9vYmFyYmF6cXV4"
MALICIOUS = "<script>alert(1)</script>"
ADDRESS = "ada@example.com"


@pytest.fixture(scope="module")
def _resend_server() -> Iterator[ResendStub]:
    with resend_stub.running() as stub:
        yield stub


SENDER = "Reckoning <reports@reckoning.example>"


@pytest.fixture
def resend(_resend_server: ResendStub, env: Env) -> ResendStub:
    """A fresh Resend stub; RESEND_API_KEY and RESEND_BASE_URL point the app at it."""
    _resend_server.reset()
    env(
        RESEND_API_KEY="re_test_key",
        RESEND_BASE_URL=_resend_server.url,
        EMAIL_FROM="Reckoning <reports@reckoning.example>",
    )
    return _resend_server


@pytest.fixture
def outbox(tmp_path: Path, env: Env) -> Path:
    directory = tmp_path / "outbox"
    env(LOCAL_OUTBOX_DIR=str(directory))
    return directory


def ready_email(name: str | None = "Ada") -> OutgoingEmail:
    return compose_report_ready(name, LINK, "Drifting, and ready to steer")


def parse_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None and isinstance(body, EmailMessage)
    content = body.get_content()
    assert isinstance(content, str)
    return content


# --- composing -------------------------------------------------------------------------------------------------


def test_the_ready_email_greets_by_name_and_gives_the_link_as_the_one_call_to_action() -> None:
    message = ready_email()

    assert message.subject == "Your Reckoning is ready"
    assert message.text.startswith("Hi Ada,")
    assert LINK in message.text
    assert "Drifting, and ready to steer" in message.text
    assert "works like a key" in message.text and "works like a key" in message.html
    assert message.html.count("<a ") == 1
    assert f'href="{LINK}"' in message.html


def test_without_a_name_the_ready_email_says_hello() -> None:
    assert ready_email(None).text.startswith("Hello,")
    assert ready_email("   ").text.startswith("Hello,")


def test_every_interpolated_value_is_escaped_in_the_html() -> None:
    link = 'https://reckoning.example/r/abc?x="><script>alert(2)</script>'

    message = compose_report_ready(MALICIOUS, link, f"Title {MALICIOUS} & more")
    links = compose_report_links([(MALICIOUS, link)])

    for html in (message.html, links.html):
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert 'href="https://reckoning.example/r/abc?x=&quot;&gt;&lt;script&gt;' in html
    assert "Title &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in message.html
    assert MALICIOUS in message.text  # the text part is plain text: shown as written


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "/api/report/relative",
        "https://bucket.s3.amazonaws.com/reports/x/v1.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc",
    ],
)
def test_only_absolute_report_page_links_are_ever_emailed(link: str) -> None:
    with pytest.raises(ValueError, match="link"):
        compose_report_ready("Ada", link, "Title")
    with pytest.raises(ValueError, match="link"):
        compose_report_links([("Title", link)])


def test_the_links_email_lists_each_report_and_says_it_can_be_ignored() -> None:
    links = [("Drifting, and ready to steer", LINK), ("12 March 2026", "https://reckoning.example/r/second")]

    message = compose_report_links(links)

    assert message.subject == "Your Reckoning report links"
    for label, link in links:
        assert f"{label}\n{link}" in message.text
        assert f'href="{link}"' in message.html
    assert "work like keys" in message.text
    assert "you can ignore this email" in message.text


def test_the_links_email_needs_at_least_one_link() -> None:
    with pytest.raises(ValueError, match="no report links"):
        compose_report_links([])


# --- sending through Resend ------------------------------------------------------------------------------------


def test_a_ready_email_is_delivered_through_resend_with_its_idempotency_key(resend: ResendStub) -> None:
    sender = with_fakes().mailer
    assert isinstance(sender, ResendMailer)
    message = ready_email()

    message_id = sender.send(message, ADDRESS, "report-ready:8c2b8f0e")

    [delivery] = resend.deliveries
    assert delivery.id == message_id
    assert delivery.sender == "Reckoning <reports@reckoning.example>"
    assert delivery.to == [ADDRESS]
    assert (delivery.subject, delivery.html, delivery.text) == (message.subject, message.html, message.text)
    assert delivery.idempotency_key == "report-ready:8c2b8f0e"
    assert delivery.authorization == "Bearer re_test_key"


def test_a_redelivered_send_with_the_same_key_is_not_delivered_twice(resend: ResendStub) -> None:
    first = with_fakes().mailer.send(ready_email(), ADDRESS, "report-ready:same")
    second = with_fakes().mailer.send(ready_email(), ADDRESS, "report-ready:same")

    assert first == second
    assert len(resend.deliveries) == 1


def test_different_keys_are_different_emails(resend: ResendStub) -> None:
    with_fakes().mailer.send(ready_email(), ADDRESS, "report-ready:one")
    with_fakes().mailer.send(ready_email(), ADDRESS, "report-ready:two")

    assert len(resend.deliveries) == 2


@pytest.mark.parametrize(
    ("failure", "error", "kind"),
    [
        ("rate_limit", TransientFailure, None),
        ("server_error", TransientFailure, None),
        ("daily_quota", PermanentFailure, "email_quota"),
        ("monthly_quota", PermanentFailure, "email_quota"),
        ("validation", PermanentFailure, "invalid_request"),
    ],
)
def test_resend_failures_are_classified_for_retry_or_not(
    resend: ResendStub, failure: Failure, error: type[Exception], kind: str | None
) -> None:
    resend.fail_next(failure)

    with pytest.raises(error) as raised:
        with_fakes().mailer.send(ready_email(), ADDRESS, f"key-{failure}")

    assert not resend.deliveries
    if kind is not None:
        assert isinstance(raised.value, PermanentFailure) and raised.value.kind == kind
    assert ADDRESS not in str(raised.value)


def test_after_a_rate_limit_the_retried_send_goes_through(resend: ResendStub) -> None:
    resend.fail_next("rate_limit")
    with pytest.raises(TransientFailure):
        with_fakes().mailer.send(ready_email(), ADDRESS, "report-ready:retry")

    with_fakes().mailer.send(ready_email(), ADDRESS, "report-ready:retry")

    assert len(resend.deliveries) == 1


def test_a_quota_failure_says_why(resend: ResendStub) -> None:
    resend.fail_next("daily_quota")

    with pytest.raises(PermanentFailure, match="quota is used up"):
        with_fakes().mailer.send(ready_email(), ADDRESS, "report-ready:quota")


def test_a_rejected_api_key_is_permanent(resend: ResendStub) -> None:
    sender = ResendMailer(lambda: "not-a-resend-key", sender="a@b.example", base_url=resend.url)

    with pytest.raises(PermanentFailure) as raised:
        sender.send(ready_email(), ADDRESS, "report-ready:auth")

    assert raised.value.kind == "auth"


def test_a_slow_resend_times_out_as_a_transient_failure(resend: ResendStub) -> None:
    resend.fail_next("slow")
    sender = ResendMailer(lambda: "re_test_key", sender="a@b.example", base_url=resend.url, timeout_s=1)

    with pytest.raises(TransientFailure):
        sender.send(ready_email(), ADDRESS, "report-ready:slow")


def test_an_unreachable_resend_is_a_transient_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    sender = ResendMailer(lambda: "re_test_key", sender="a@b.example", base_url=f"http://127.0.0.1:{closed_port}")

    with pytest.raises(TransientFailure):
        sender.send(ready_email(), ADDRESS, "report-ready:down")


# --- the offline outbox ----------------------------------------------------------------------------------------


def test_without_a_key_emails_go_to_the_outbox_as_one_parseable_eml_per_key(outbox: Path) -> None:
    sender = with_fakes().mailer
    assert isinstance(sender, OutboxMailer)

    sender.send(compose_report_ready(MALICIOUS, LINK, "Your year"), ADDRESS, "report-ready:8c2b8f0e")

    [path] = outbox.glob("*.eml")
    message = parse_eml(path)
    assert message["To"] == ADDRESS
    assert message["From"] == config.settings().email_from
    assert message["Subject"] == "Your Reckoning is ready"
    assert message.get_content_type() == "multipart/alternative"
    assert LINK in part(message, "plain")
    html = part(message, "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


def test_the_outbox_writes_a_key_once_and_returns_the_same_id(outbox: Path) -> None:
    sender = with_fakes().mailer
    first = sender.send(ready_email(), ADDRESS, "report-ready:once")
    [path] = outbox.glob("*.eml")
    written = path.read_bytes()

    second = sender.send(compose_report_ready("Someone else", LINK, "Changed"), ADDRESS, "report-ready:once")

    assert first == second
    assert list(outbox.glob("*.eml")) == [path]
    assert path.read_bytes() == written


def test_outbox_file_names_are_safe_and_distinct_per_key(tmp_path: Path) -> None:
    sender = OutboxMailer(tmp_path, sender="a@b.example")

    hostile = sender.path_for("../../etc/passwd")
    similar = (sender.path_for("links:a/b"), sender.path_for("links:a:b"))

    assert hostile.parent == tmp_path and hostile.name.endswith(".eml") and "/" not in hostile.name
    assert similar[0] != similar[1]


def test_the_outbox_logs_say_so_without_the_address(outbox: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)

    with_fakes().mailer.send(ready_email(), ADDRESS, "report-ready:logs")

    records = [record for record in caplog.records if record.name == "reckoning"]
    assert any("offline" in record.getMessage() for record in records)
    everything = " ".join(str(vars(record)) for record in records)  # messages and structured extras
    assert ADDRESS not in everything
    assert "Ada" not in everything


def test_production_without_a_key_refuses_rather_than_writing_files(env: Env) -> None:
    env(ENVIRONMENT="production", DATABASE_URL="postgresql://unused")

    with pytest.raises(ServiceUnavailable):
        _ = with_fakes().mailer.send
