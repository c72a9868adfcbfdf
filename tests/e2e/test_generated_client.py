"""A client generated from docs/openapi.json by `openapi-python-client` (offline, into tmp_path) has every
operation, and drives the whole paid flow against the local stack: what a frontend or partner team would do first.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from reckoning_local.openapi import COMMITTED
from tests.conftest import StartStack
from tests.helpers import submission

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"),
]

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "reckoning_generated_client"
DOCUMENT = json.loads(COMMITTED.read_text())


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def operation_ids() -> set[str]:
    return {op["operationId"] for ops in DOCUMENT["paths"].values() for op in ops.values()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The generated package, importable as `reckoning_generated_client` (no post hooks: nothing but the tool)."""
    root = tmp_path_factory.mktemp("generated")
    config = root / "config.json"
    config.write_text(
        json.dumps({"post_hooks": [], "project_name_override": PACKAGE, "package_name_override": PACKAGE})
    )
    arguments = ["--path", str(COMMITTED), "--meta", "none", "--output-path", str(root / PACKAGE)]
    done = subprocess.run(  # noqa: S603 - the tool from this venv, on our own document
        [str(GENERATOR), "generate", *arguments, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Anything it could not model it reports as a warning, and leaves out: there must be none.
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(root))
    yield root / PACKAGE
    sys.path.remove(str(root))
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def operation(module_path: Path, operation_id: str) -> ModuleType:
    found = list(module_path.glob(f"api/*/{snake(operation_id)}.py"))
    assert len(found) == 1, f"{operation_id}: {found}"
    tag = found[0].parent.name
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{snake(operation_id)}")


def test_the_generated_client_has_every_operation(generated: Path) -> None:
    ids = operation_ids()
    assert ids == {
        "getQuestionnaire",
        "submitReckoning",
        "startCheckout",
        "getReport",
        "getReportPdf",
        "exportReport",
        "eraseReport",
        "requestReportLinks",
    }
    modules = {path.stem for path in generated.glob("api/*/*.py") if path.stem != "__init__"}
    assert modules == {snake(op) for op in ids}
    print(f"\ngenerated client: {len(modules)} operations of {len(ids)} in the document")
    for op in sorted(ids):
        module = operation(generated, op)
        assert callable(module.sync_detailed)


@pytest.fixture
def client(generated: Path, start_stack: StartStack) -> Iterator[Any]:
    stack = start_stack(schedules=False)
    with importlib.import_module(PACKAGE).Client(base_url=stack.url, raise_on_unexpected_status=True) as client:
        yield client


def test_the_generated_client_drives_the_paid_flow(generated: Path, client: Any) -> None:
    ops = {op: operation(generated, op) for op in operation_ids()}
    models = importlib.import_module(f"{PACKAGE}.models")
    unset = importlib.import_module(f"{PACKAGE}.types").Unset  # the generated client's "absent"

    def call(op: str, *args: Any, **kwargs: Any) -> Any:
        response = ops[op].sync_detailed(*args, client=client, **kwargs)
        assert response.headers["X-Request-Id"], op
        return response

    questionnaire = call("getQuestionnaire")
    assert questionnaire.status_code == 200
    assert isinstance(questionnaire.parsed, models.EnvelopeQuestionnaire)
    version = questionnaire.parsed.data.version

    key = str(uuid.uuid4())
    answers = {**submission()["answers"], "support": None}  # an optional question left unanswered
    body = models.SubmitRequest.from_dict({**submission(answers=answers), "questionnaireVersion": version})
    submitted = call("submitReckoning", body=body, idempotency_key=key)
    assert submitted.status_code == 201
    token = submitted.parsed.data.token
    replayed = call("submitReckoning", body=body, idempotency_key=key)
    assert (replayed.status_code, replayed.headers["Idempotent-Replayed"]) == (201, "true")
    assert replayed.parsed.data.token == token

    waiting = call("getReport", token)
    assert isinstance(waiting.parsed.data, models.ReportAwaitingPayment)
    assert int(waiting.headers["Retry-After"]) == waiting.parsed.data.retry_after_seconds
    not_ready = call("getReportPdf", token)
    assert isinstance(not_ready.parsed, models.ConflictError)

    checkout = call("startCheckout", body=models.CheckoutRequest(token=token), idempotency_key=str(uuid.uuid4()))
    assert isinstance(checkout.parsed, models.EnvelopeCheckoutResult)
    paid = httpx.post(checkout.parsed.data.checkout_url, follow_redirects=False, timeout=30)  # the Pay button
    assert paid.status_code == 303

    started = time.monotonic()
    ready = call("getReport", token)
    while not isinstance(ready.parsed.data, models.ReportReady):
        assert time.monotonic() - started < 60, ready.parsed.data
        assert isinstance(ready.parsed.data, models.ReportPaid | models.ReportGenerating | models.ReportAwaitingPayment)
        time.sleep(0.2)
        ready = call("getReport", token)
    assert ready.parsed.data.report.sections and 0 <= ready.parsed.data.confidence <= 1
    unchanged = call("getReport", token, if_none_match=ready.headers["ETag"])
    assert unchanged.status_code == 304

    pdf = call("getReportPdf", token)
    assert pdf.status_code == 302
    assert httpx.get(pdf.headers["Location"], timeout=30).content.startswith(b"%PDF")

    links = call("requestReportLinks", body=models.LinksRequest(email=submission()["email"]))
    assert links.status_code == 202 and isinstance(links.parsed, models.EnvelopeLinksAccepted)

    exported = call("exportReport", token)
    assert isinstance(exported.parsed, models.EnvelopeExport)
    exported_answers = {answer.question_id: answer for answer in exported.parsed.data.answers}
    assert set(exported_answers) == set(answers)
    assert isinstance(exported_answers["support"].answer, unset)  # unanswered: no `answer`, as the schema allows
    assert exported.parsed.data.payments[0].status == models.PaymentStatus.PAID

    erased = call("eraseReport", token)
    assert erased.status_code == 202 and isinstance(erased.parsed, models.EnvelopeErased)
    gone = call("getReport", token)
    assert isinstance(gone.parsed, models.NotFoundError)
    assert gone.parsed.error.request_id == gone.headers["X-Request-Id"]
    assert gone.parsed.error.code == models.NotFoundErrorErrorCode.NOT_FOUND
