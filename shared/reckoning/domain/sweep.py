"""The sweeper's minute: what the request path leaves for later."""

from __future__ import annotations

from reckoning import db
from reckoning.domain import idempotency, outbox, rate_limit
from reckoning.observability import logger, metrics
from reckoning.providers.queue import Queue


def sweep(database: db.Database, queue: Queue) -> outbox.Relayed:
    """Relay outbox messages the webhook could not send; prune rate-limit counters of windows long gone and
    idempotency keys older than a day."""
    relayed = outbox.drain(database, queue)
    metrics.add_metric(name="OutboxRelayed", unit="Count", value=relayed.sent)
    if relayed.failed:
        metrics.add_metric(name="OutboxRelayFailed", unit="Count", value=relayed.failed)
    pruned = rate_limit.prune(database)
    if pruned:
        logger.info("rate-limit counters pruned", extra={"pruned": pruned})
    keys = idempotency.prune(database)
    if keys:
        logger.info("idempotency keys pruned", extra={"pruned": keys})
    return relayed
