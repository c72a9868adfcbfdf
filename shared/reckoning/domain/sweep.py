"""The sweeper's minute: what the request path leaves for later."""

from __future__ import annotations

from reckoning import db
from reckoning.domain import erasure, idempotency, outbox, rate_limit, recovery
from reckoning.observability import logger, metrics
from reckoning.providers import storage
from reckoning.providers.queue import Queue


def sweep(database: db.Database, queue: Queue, store: erasure.ObjectStore = storage) -> outbox.Relayed:
    """Re-enqueue stale work, relay outbox messages the webhook could not send (and those), prune rate-limit
    counters of windows long gone and idempotency keys older than a day, and purge what is kept past its
    retention (finishing erasures left halfway)."""
    recovery.requeue_stale(database)
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
    erasure.purge(database, store)
    return relayed
