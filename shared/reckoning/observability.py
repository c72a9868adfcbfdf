"""One logger and one metrics object per process.

Logs never carry emails, answers, tokens or report text: code logs ids, counts and error classes only.
"""

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="reckoning")
metrics = Metrics(namespace="Reckoning", service="reckoning")
