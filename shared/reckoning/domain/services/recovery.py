"""Stale work found again: paid reckonings nobody claimed, generating ones whose worker died.

A job can be lost (the local stack killed with its queue, a message deleted by a worker that then died) or
stuck (a worker crashed or timed out holding its lease; SQS alone would wait out the 90-minute visibility
timeout). The sweeper re-enqueues such work through the outbox, so a paid order is picked up again within
GENERATION_STALE_AFTER_S plus one sweep (a crashed worker's: once its lease has ended, the same again).
"""

from __future__ import annotations

from reckoning import db
from reckoning.db import outbox, reckonings
from reckoning.db.reckonings import Stale
from reckoning.models.job import GenerateJob
from reckoning.observability import logger, metrics


def dedupe_key(work: Stale) -> str:
    """One re-enqueue per stale period of one episode: `since` names the episode (when it became paid, or its
    lease ended), so a claim starts a new one; within it, a second sweep in the same period is a no-op, and a
    re-enqueued job that was lost too is re-enqueued once more a period later."""
    return f"stale:{work.id}:{work.since.timestamp():.6f}:{work.periods}"


def requeue_stale(database: db.Database, stale_after_s: int, limit: int = 100) -> int:
    """Queue a `generate` job for every stale reckoning not re-enqueued in this period yet; how many were."""
    with database.transaction() as conn:
        found = reckonings.stale(conn, stale_after_s, limit)
        queued = [
            w for w in found if outbox.enqueue(conn, GenerateJob(reckoning_id=w.id, reason="retry"), dedupe_key(w))
        ]
    if queued:
        metrics.add_metric(name="StaleWorkRequeued", unit="Count", value=len(queued))
        logger.warning(
            "stale work re-enqueued",
            extra={"count": len(queued), "reckonings": [f"{w.id} ({w.status})" for w in queued]},
        )
    return len(queued)
