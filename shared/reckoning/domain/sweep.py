"""The sweeper's minute: what the request path leaves for later."""

from __future__ import annotations

from reckoning.db import outbox, rate_limits
from reckoning.dependencies import Dependencies
from reckoning.domain.services import erasure, idempotency, recovery, relay
from reckoning.observability import logger, metrics


def sweep(deps: Dependencies) -> relay.Relayed:
    """Re-enqueue lost work, relay outbox messages the webhook could not send (and those), prune rate-limit
    counters of windows long gone, idempotency keys older than a day and messages sent a week ago, and purge
    what is kept past its retention (finishing erasures left halfway)."""
    database = deps.database
    recovery.requeue_stale(database, deps.queue, deps.policy.generation_stale_after_s)
    relayed = relay.drain(database, deps.queue)
    metrics.add_metric(name="OutboxRelayed", unit="Count", value=relayed.sent)
    if relayed.failed:
        metrics.add_metric(name="OutboxRelayFailed", unit="Count", value=relayed.failed)
    pruned = prune_rate_limits(deps)
    if pruned:
        logger.info("rate-limit counters pruned", extra={"pruned": pruned})
    keys = idempotency.prune(database)
    if keys:
        logger.info("idempotency keys pruned", extra={"pruned": keys})
    with database.connection() as conn:
        sent = outbox.prune_sent(conn, SENT_OUTBOX_KEPT_S)
    if sent:
        logger.info("sent outbox messages pruned", extra={"pruned": sent})
    erasure.purge(deps)
    return relayed


# Sent outbox messages are kept this long (for the timeline of recent work), then deleted.
SENT_OUTBOX_KEPT_S = 7 * 24 * 3600
# Rate-limit counters are kept this long after their window started (or two windows, if windows are longer).
RATE_LIMITS_KEPT_S = 24 * 3600


def prune_rate_limits(deps: Dependencies) -> int:
    """Forget the counters of windows long gone; how many went."""
    with deps.database.transaction() as conn:
        return rate_limits.prune(conn, max(RATE_LIMITS_KEPT_S, 2 * deps.policy.rate_limit_window_s))
