"""`make dev` serves the web client at `/` beside `/api/*` on one origin, holds a burst of connections, and takes
template parameter overrides (`make dev PARAMS="CorsOrigin=…"`) as a deployment would."""

from __future__ import annotations

import http.client
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reckoning_local import client
from reckoning_local.__main__ import _parser
from reckoning_local.server import LISTEN_BACKLOG, LocalHttpServer
from reckoning_local.site import CONTENT_SECURITY_POLICY
from reckoning_local.stack import Stack
from reckoning_local.template import TemplateError
from tests.conftest import StartStack
from tests.helpers import submission

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

WEB = Path(__file__).resolve().parents[2] / "web"
DEV_ORIGIN = "http://localhost:5173"


@pytest.mark.parametrize(
    ("path", "file", "content_type"),
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/report", "report.html", "text/html; charset=utf-8"),
        ("/report.html", "report.html", "text/html; charset=utf-8"),
        ("/recover", "recover.html", "text/html; charset=utf-8"),
        ("/checkout/success?session_id=cs_test_1", "checkout/success.html", "text/html; charset=utf-8"),
        ("/checkout/cancel", "checkout/cancel.html", "text/html; charset=utf-8"),
        ("/styles.css", "styles.css", "text/css; charset=utf-8"),
        ("/js/report.js", "js/report.js", "text/javascript; charset=utf-8"),
        ("/favicon.svg", "favicon.svg", "image/svg+xml"),
    ],
)
def test_the_web_client_is_served_beside_the_api_with_its_security_headers(
    stack: Stack, path: str, file: str, content_type: str
) -> None:
    result = client.request("GET", stack.url + path)

    assert result.status == 200
    assert result.raw == (WEB / file).read_bytes()
    assert result.headers["content-type"] == content_type
    assert result.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert result.headers["referrer-policy"] == "no-referrer"
    assert result.headers["x-content-type-options"] == "nosniff"
    assert result.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/nothing-here", "/report/abc", "/../pyproject.toml", "/%2e%2e/Makefile", "/.git"])
def test_a_page_that_does_not_exist_is_the_clients_404_page(stack: Stack, path: str) -> None:
    result = client.request("GET", stack.url + path)

    assert result.status == 404
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert result.raw == (WEB / "404.html").read_bytes()


def test_the_pages_hold_no_inline_script_or_style_and_tell_no_referrer() -> None:
    for page in WEB.rglob("*.html"):
        text = page.read_text()
        assert '<meta name="referrer" content="no-referrer">' in text, page
        assert " style=" not in text and "<style" not in text, page
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), page  # every script is a file
        assert not re.search(r"\son[a-z]+=", text), page  # no inline event handlers
    for module in (WEB / "js").glob("*.js"):
        assert "innerHTML" not in module.read_text() and "insertAdjacentHTML" not in module.read_text(), module


def test_the_local_checkout_sends_the_person_back_with_stripes_session_id_and_never_the_token(stack: Stack) -> None:
    token = client.request("POST", f"{stack.url}/api/reckoning", json_body=submission()).data["token"]
    session = client.request("POST", f"{stack.url}/api/checkout", json_body={"token": token}).data

    page = client.request("GET", session["checkoutUrl"])
    paid = client.request("POST", session["checkoutUrl"])

    assert paid.status == 303
    assert paid.headers["location"] == f"{stack.url}/checkout/success?session_id={session['sessionId']}"
    assert f"href='{stack.url}/checkout/cancel'" in page.raw.decode()
    assert token not in session["checkoutUrl"] and token not in page.raw.decode()


def test_a_hundred_simultaneous_requests_get_a_hundred_answers(stack: Stack) -> None:
    assert LocalHttpServer.request_queue_size == LISTEN_BACKLOG >= 128
    target = urlsplit(stack.url)
    start = threading.Barrier(100)
    answers: list[int] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
        try:
            start.wait()
            connection.connect()  # all at once: the listen backlog holds what is not accepted yet
            connection.request("GET", f"/api/report/{'x' * 42}{i % 10}" if i % 2 else "/")
            status = connection.getresponse().status
            with lock:
                answers.append(status)
        except BaseException as exc:
            with lock:
                failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert failures == []
    assert sorted(answers) == [200] * 50 + [404] * 50


def test_template_parameters_can_be_overridden_so_a_dev_server_origin_passes_cors(start_stack: StartStack) -> None:
    preflight = {"Origin": DEV_ORIGIN, "Access-Control-Request-Method": "POST"}
    default = start_stack(pollers=False, web_root=None)
    refused = client.request("OPTIONS", f"{default.url}/api/reckoning", headers=preflight)
    default.stop()  # one stack per process: its environment would otherwise be the next one's "caller"
    overridden = start_stack(pollers=False, parameters={"CorsOrigin": DEV_ORIGIN})

    allowed = client.request("OPTIONS", f"{overridden.url}/api/reckoning", headers=preflight)
    answered = client.request("GET", f"{overridden.url}/api/questionnaire", headers={"Origin": DEV_ORIGIN})

    assert "access-control-allow-origin" not in refused.headers
    assert allowed.status == 204
    assert allowed.headers["access-control-allow-origin"] == DEV_ORIGIN
    assert answered.headers["access-control-allow-origin"] == DEV_ORIGIN
    assert overridden.environment["CORS_ORIGIN"] == DEV_ORIGIN  # the functions see the parameter too


def test_an_override_of_a_parameter_the_template_lacks_is_refused(start_stack: StartStack) -> None:
    with pytest.raises(TemplateError, match="CorsOrign: not a parameter"):
        start_stack(pollers=False, parameters={"CorsOrign": DEV_ORIGIN})


def test_make_dev_params_become_template_parameter_overrides() -> None:
    args = _parser().parse_args(["serve", "--param", f"CorsOrigin={DEV_ORIGIN}", "--param", "RetentionDays=7"])

    assert dict(args.param) == {"CorsOrigin": DEV_ORIGIN, "RetentionDays": "7"}
    with pytest.raises(SystemExit):
        _parser().parse_args(["serve", "--param", "CorsOrigin"])
