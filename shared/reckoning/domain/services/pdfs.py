"""A report version's PDF: rendered once, from one input, into write-once storage."""

from __future__ import annotations

from reckoning import db, errors
from reckoning.db import reports
from reckoning.db.reports import StoredReport
from reckoning.ports import ObjectStore, Render


def ensure_pdf(
    database: db.Database, store: ObjectStore, render: Render, name: str | None, report: StoredReport
) -> str:
    """The storage key of the version's PDF, rendering and uploading it when it is not there.

    The PDF shows the date the version was written, so it is the same whichever path renders it first (the
    worker after saving, or the PDF route when the object went missing). A PDF written for a report erased
    meanwhile is deleted again, whichever of the two finished first (errors.Gone).
    """
    key = store.pdf_key(report.reckoning_id, report.version)
    wrote = not store.exists(key) and store.put_pdf_if_absent(key, render(report.report, name, report.written_at))
    if wrote or report.pdf_key != key:
        with database.transaction() as conn:
            recorded = reports.set_pdf_key(conn, report.reckoning_id, report.version, key)
        if not recorded:  # the report was erased (or replaced) since it was read: leave no PDF behind
            store.delete_reckoning(report.reckoning_id)
            raise errors.Gone("the report is gone")
    return key
