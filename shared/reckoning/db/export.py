"""Everything stored about a reckoning, table by table, for its person's export (sql/export.sql).

`EXPORTED` names the query that reads each table with a `reckoning_id`; the reckoning itself is read through its
token. tests/integration/test_privacy.py fails when a table with a `reckoning_id` is missing here.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from reckoning.db.connection import Connection
from reckoning.db.queries import every

EXPORTED: dict[str, str] = {
    "reckoning_events": "export_status_history",
    "access_tokens": "export_links",
    "payments": "export_payments",
    "stripe_events": "export_payment_events",
    "reports": "export_reports",
    "generation_attempts": "export_attempts",
    "emails": "export_emails",
    "idempotency_keys": "export_idempotent_requests",
}


def rows(conn: Connection, reckoning_id: UUID) -> dict[str, list[dict[str, Any]]]:
    """Each table's rows of the reckoning, by table name."""
    return {table: every(conn, query, dict, reckoning_id=reckoning_id) for table, query in EXPORTED.items()}
