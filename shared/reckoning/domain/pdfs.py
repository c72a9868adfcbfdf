"""A report version's PDF: rendered once, from one input, into write-once storage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from reckoning import db
from reckoning.db import reports
from reckoning.db.reports import StoredReport
from reckoning.models.report import Report

type Render = Callable[[Report, str | None, datetime], bytes]


class PdfStore(Protocol):
    def pdf_key(self, reckoning_id: UUID, version: int) -> str: ...
    def exists(self, key: str) -> bool: ...
    def put_pdf_if_absent(self, key: str, data: bytes) -> bool: ...


def ensure_pdf(database: db.Database, store: PdfStore, render: Render, name: str | None, report: StoredReport) -> str:
    """The storage key of the version's PDF, rendering and uploading it when it is not there.

    The PDF shows the date the version was written, so it is the same whichever path renders it first (the
    worker after saving, or the PDF route when the object went missing).
    """
    key = store.pdf_key(report.reckoning_id, report.version)
    if not store.exists(key):
        store.put_pdf_if_absent(key, render(report.report, name, report.written_at))
    if report.pdf_key != key:
        with database.transaction() as conn:
            reports.set_pdf_key(conn, report.reckoning_id, report.version, key)
    return key
