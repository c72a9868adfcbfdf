"""One logger, one metrics object and one tracer per process.

Logs never carry emails, answers, tokens or report text: code logs ids, counts and error classes only. Traces
neither: provider calls are traced with `TRACE` (no response or error captured as metadata), and annotations
carry ids only.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

NAMESPACE = "Reckoning"
SERVICE = "reckoning"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


type Wrap = Callable[[Callable[..., Any]], Callable[..., Any]]


class LazyTracer:
    """Powertools' Tracer, built on the first traced call: building one imports the X-Ray SDK (about 0.4 s, for
    it imports botocore), which a cold start must not pay before it is asked to trace. A function deployed with
    POWERTOOLS_TRACE_DISABLED=true (the request path: Lambda's active tracing still records each invocation)
    never builds it. No auto-patching: the calls that matter are traced where they are made."""

    @functools.cached_property
    def tracer(self) -> Tracer:
        from aws_lambda_powertools import Tracer

        return Tracer(service=SERVICE, auto_patch=False)

    def capture_lambda_handler(self, *, capture_response: bool = False) -> Traced:
        """Trace the handler; its answer is never recorded (it carries tokens, names, report text)."""
        return Traced(lambda fn: self.tracer.capture_lambda_handler(fn, capture_response=capture_response))

    def capture_method(self) -> Traced:
        """Trace a provider call as a subsegment named after it; neither its answer nor its error is recorded."""
        return Traced(_method(self, **NOTHING_RECORDED))


# A draft, a checkout URL or an SDK error can quote the person: a provider call's trace keeps its name and timing.
NOTHING_RECORDED = {"capture_response": False, "capture_error": False}


def _method(lazy: LazyTracer, **options: bool) -> Wrap:
    return lambda fn: lazy.tracer.capture_method(fn, **options)


class Traced:
    """A decorator that wraps its function with `wrap` on the first call made with tracing on."""

    def __init__(self, wrap: Wrap) -> None:
        self._wrap = wrap

    def __call__[F: Callable[..., Any]](self, fn: F) -> F:
        traced: list[Callable[..., Any]] = []

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() == "true":
                return fn(*args, **kwargs)
            if not traced:
                traced.append(self._wrap(fn))
            return traced[0](*args, **kwargs)

        return cast(F, call)


tracer = LazyTracer()
TRACE = tracer.capture_method()


def count_by(name: str, dimension: str, value: str) -> None:
    """One count with a dimension of its own (e.g. GateVerdict by Verdict), written at once."""
    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
    ) as metric:
        metric.add_dimension(name=dimension, value=value)
