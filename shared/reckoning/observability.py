"""One logger, one metrics object and one tracer per process.

Logs never carry emails, answers, tokens or report text: code logs ids, counts and error classes only. Traces
neither: provider calls are traced with `TRACE` (no response or error captured as metadata), and annotations
carry ids only.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "Reckoning"
SERVICE = "reckoning"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
# No auto-patching: patching every library it knows imports botocore and costs Submit ~400 ms of cold start;
# the calls that matter are traced where they are made (`TRACE`, the handlers' capture_lambda_handler).
tracer = Tracer(service=SERVICE, auto_patch=False)

# Every provider call, as a subsegment named after the method: its answer (a draft, a checkout URL) and its error
# are not recorded, for either could quote the person. Outside Lambda the tracer is disabled.
TRACE = tracer.capture_method(capture_response=False, capture_error=False)


def count_by(name: str, dimension: str, value: str) -> None:
    """One count with a dimension of its own (e.g. GateVerdict by Verdict), written at once."""
    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
    ) as metric:
        metric.add_dimension(name=dimension, value=value)
