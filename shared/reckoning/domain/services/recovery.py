"""Lost work found again: paid reckonings whose job never reached a worker, generating ones whose worker died.

A job can be lost (the local stack killed with its queue, a message deleted by a worker that then died) or
stuck (a worker crashed or timed out holding its lease; SQS alone would wait out the 90-minute visibility
timeout). Waiting is not being lost: behind the concurrency cap a job may wait in the queue for as long as the
backlog takes. So staleness is measured against the queue's own progress, not the clock: a job is lost when
the workers have been claiming jobs relayed a stale period after it (the watermark each claim advances), or
when the queue holds no visible message and it was relayed a stale period ago. The sweeper re-enqueues lost
work through the outbox.
"""

from __future__ import annotations

from reckoning import db, errors
from reckoning.db import outbox, reckonings
from reckoning.db.reckonings import Stale
from reckoning.models.job import GenerateJob
from reckoning.observability import logger, metrics
from reckoning.ports import Queue


def dedupe_key(work: Stale) -> str:
    """One re-enqueue per episode: `since` is the latest relay of the reckoning's job (or when it became paid, or
    its lease ended), so the re-enqueued job, once relayed, starts the next one; a second sweep before that is a
    no-op."""
    return f"stale:{work.id}:{work.since.timestamp():.6f}"


def queue_idle(queue: Queue) -> bool:
    """Whether the report queue holds no visible message (a queue that cannot say is taken as busy: then only
    the watermark finds lost work)."""
    try:
        return queue.waiting() == 0
    except errors.TransientFailure as exc:
        logger.warning("could not read the report queue's depth", extra={"cause": str(exc)})
        return False


def requeue_stale(database: db.Database, queue: Queue, stale_after_s: int, limit: int = 100) -> int:
    """Queue a `generate` job for every lost reckoning not re-enqueued in this episode yet; how many were."""
    idle = queue_idle(queue)
    with database.transaction() as conn:
        found = reckonings.stale(conn, stale_after_s, limit, queue_idle=idle)
        queued = [
            w for w in found if outbox.enqueue(conn, GenerateJob(reckoning_id=w.id, reason="retry"), dedupe_key(w))
        ]
    if queued:
        metrics.add_metric(name="StaleWorkRequeued", unit="Count", value=len(queued))
        logger.warning(
            "stale work re-enqueued",
            extra={"count": len(queued), "queue_idle": idle, "reckonings": [f"{w.id} ({w.status})" for w in queued]},
        )
    return len(queued)
