"""Every provider call is traced (a subsegment per adapter method), and a trace records nothing personal."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from reckoning.observability import NOTHING_RECORDED, LazyTracer
from reckoning.providers.checkout import StripeCheckout
from reckoning.providers.claude import ClaudeWriter
from reckoning.providers.email import ResendMailer
from reckoning.providers.judge import ClaudeJudge
from reckoning.providers.queue import SqsQueue
from reckoning.providers.storage import S3Store

PROVIDERS = Path(__file__).resolve().parents[2] / "shared" / "reckoning" / "providers"
TRACED = [
    (ClaudeWriter, "write"),
    (ClaudeJudge, "judge"),
    (ResendMailer, "send"),
    (StripeCheckout, "create_session"),
    (StripeCheckout, "expire_session"),
    (StripeCheckout, "payment_intent_of_charge"),
    (S3Store, "exists"),
    (S3Store, "put_pdf_if_absent"),
    (S3Store, "delete_reckoning"),
    (S3Store, "presigned_pdf_url"),
    (SqsQueue, "send"),
    (SqsQueue, "hand_back"),
    (SqsQueue, "dead_letters"),
    (SqsQueue, "requeue_dead_letter"),
]


@pytest.mark.parametrize(("adapter", "method"), TRACED, ids=lambda x: getattr(x, "__name__", x))
def test_each_provider_call_is_traced(adapter: type, method: str) -> None:
    function = getattr(adapter, method)
    assert inspect.unwrap(function) is not function, f"{adapter.__name__}.{method} is not traced"


def test_a_traced_call_records_neither_its_answer_nor_its_error() -> None:
    # A draft, a checkout URL or an SDK error can quote the person: only the call's name and timing are kept.
    assert NOTHING_RECORDED == {"capture_response": False, "capture_error": False}


def test_the_tracer_is_built_on_the_first_traced_call_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    # Building it imports the X-Ray SDK (~0.4 s): a cold start does not pay for it, nor does a disabled function.
    lazy = LazyTracer()
    calls: list[int] = []

    def call() -> None:
        calls.append(1)

    traced = lazy.capture_method()(call)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    traced()
    assert calls == [1] and "tracer" not in vars(lazy)


def test_providers_annotate_traces_with_ids_only() -> None:
    for path in PROVIDERS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in {"put_annotation", "put_metadata"}:
                key = node.args[0] if node.args else None
                assert isinstance(key, ast.Constant) and str(key.value).endswith("_id"), (
                    f"{path.name}: {ast.unparse(node)}"
                )
