"""One logger and one metrics object per process.

Logs never carry emails, answers, tokens or report text: code logs ids and
counts only, and `redact()` is there for the rare value that must be hinted at.
"""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="reckoning")
metrics = Metrics(namespace="Reckoning", service="reckoning")

__all__ = ["MetricUnit", "logger", "metrics", "redact"]


def redact(value: str, keep: int = 2) -> str:
    """A hint for humans (`ja***`), never the value."""
    return value[:keep] + "***" if value else ""
