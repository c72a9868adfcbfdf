"""The outbox relay: messages committed with a state change reach SQS at least once.

The webhook relays right after its commit; the scheduled sweeper relays whatever
was left (SQS down, the function died between commit and send).
"""

from __future__ import annotations

from dataclasses import dataclass

from reckoning import db, errors
from reckoning.db import outbox
from reckoning.observability import logger
from reckoning.providers.queue import Queue


@dataclass(frozen=True, slots=True)
class Relayed:
    sent: int
    failed: int


def relay(database: db.Database, queue: Queue, batch: int = 50) -> Relayed:
    """Send one batch of pending messages; rows stay pending when SQS refuses them."""
    with database.transaction() as conn:
        pending = outbox.pending(conn, batch)
        if not pending:
            return Relayed(0, 0)
        error: str | None = None
        try:
            refused = queue.send({str(key): body for key, body in pending.items()})
        except errors.TransientFailure as exc:
            refused, error = {str(key) for key in pending}, str(exc)
        sent = [key for key in pending if str(key) not in refused]
        failed = [key for key in pending if str(key) in refused]
        outbox.mark(conn, sent, failed, error or ("rejected by SQS" if failed else None))
    if failed:
        logger.warning("outbox messages left for the sweeper", extra={"failed": len(failed), "sent": len(sent)})
    return Relayed(len(sent), len(failed))


def drain(database: db.Database, queue: Queue, max_batches: int = 20) -> Relayed:
    """Relay until nothing is pending, a batch fails, or the batch budget is spent."""
    sent = failed = 0
    for _ in range(max_batches):
        result = relay(database, queue)
        sent, failed = sent + result.sent, failed + result.failed
        if result.sent == 0 or result.failed:
            break
    return Relayed(sent, failed)
