"""One logger and one metrics object per process.

Logs never carry emails, answers, tokens or report text: code logs ids, counts and error classes only.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "Reckoning"
SERVICE = "reckoning"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service="reckoning")


def count_by(name: str, dimension: str, value: str) -> None:
    """One count with a dimension of its own (e.g. GateVerdict by Verdict), written at once."""
    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
    ) as metric:
        metric.add_dimension(name=dimension, value=value)
