"""What erasure does to each table that holds a reckoning's rows, declared in one place.

`ERASED` names, for every table with a `reckoning_id` (and the outbox, whose messages name one in their body), the
named query erasure runs on it, or None where the table is kept as it is because nothing in it is personal. The
reckoning itself is cleared by `reckonings.begin_erasure`. tests/integration/test_privacy.py fails when a table
with a `reckoning_id` is missing here, and scans every table after an erasure for the person's data.
"""

from __future__ import annotations

from uuid import UUID

from reckoning.db.connection import Connection
from reckoning.db.queries import count

ERASED: dict[str, str | None] = {
    "access_tokens": "delete_tokens_of",  # every link, live or not
    "reports": "delete_report_of",  # the report's text (one row holds the current version)
    "emails": "scrub_emails_of",  # kind and dates stay; the key and Resend's message id go
    "payments": "scrub_payments_of",  # the accounting record stays; the checkout URL goes
    "outbox": "delete_outbox_of",  # queue messages about it
    "idempotency_keys": "delete_idempotency_keys_of",  # requests answered under a key (the answer holds a token)
    "generation_attempts": None,  # model, tokens, latency, confidence: what writing the report cost
    "reckoning_events": None,  # the status history and its fixed reasons
    "stripe_events": None,  # Stripe's event ids and types: the payment ledger
}


def scrub(conn: Connection, reckoning_id: UUID) -> int:
    """Run every table's erasure query; how many rows were deleted or changed."""
    return sum(count(conn, query, reckoning_id=reckoning_id) for query in ERASED.values() if query)
