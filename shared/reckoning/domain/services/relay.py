"""The outbox relay: messages committed with a state change reach SQS at least once.

The webhook relays right after its commit; the scheduled sweeper relays whatever
was left (SQS down, the function died between commit and send).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reckoning import db, errors
from reckoning.db import outbox
from reckoning.observability import logger
from reckoning.ports import Queue


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


def send_now(database: db.Database, queue: Queue, messages: Mapping[str, dict[str, Any]]) -> Relayed:
    """Send messages the caller has just committed to the outbox (bodies by dedupe key) and mark them: no
    read and no transaction, one statement per outcome. A sweeper run in the moment between may send one as
    well: a duplicate job, which the worker's claim makes a no-op (SQS delivers at least once anyway)."""
    keys = list(messages)
    ids = {str(number): key for number, key in enumerate(keys)}  # SQS batch entry ids: [A-Za-z0-9_-]{1,80}
    error: str | None = None
    try:
        refused = {ids[entry] for entry in queue.send({entry: messages[key] for entry, key in ids.items()})}
    except errors.TransientFailure as exc:
        refused, error = set(keys), str(exc)
    sent = [key for key in keys if key not in refused]
    with database.connection() as conn:
        outbox.mark_by_key(conn, sent, sorted(refused), error or ("rejected by SQS" if refused else None))
    if refused:
        logger.warning("outbox messages left for the sweeper", extra={"failed": len(refused), "sent": len(sent)})
    return Relayed(len(sent), len(refused))


def drain(database: db.Database, queue: Queue, max_batches: int = 20) -> Relayed:
    """Relay until nothing is pending, a batch fails, or the batch budget is spent."""
    sent = failed = 0
    for _ in range(max_batches):
        result = relay(database, queue)
        sent, failed = sent + result.sent, failed + result.failed
        if result.sent == 0 or result.failed:
            break
    return Relayed(sent, failed)
