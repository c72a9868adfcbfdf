"""Logs carry ids and counts only: no email, name, answers, tokens or report text, along the whole flow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reckoning.config import DEV_WEBHOOK_SECRET
from reckoning.domain import checkout
from reckoning.models.job import GenerateJob
from reckoning.providers.checkout import OfflineCheckout
from reckoning.providers.email import OutboxMailer
from reckoning.providers.offline_writer import OfflineWriter
from tests.helpers import SAMPLE_ANSWERS, generate_report, invoke, submission, with_fakes
from tests.stubs.stripe import session_event, sign


def test_the_whole_flow_logs_nothing_personal(
    database_url: str,
    report_queue: str,
    report_bucket: str,
    tmp_path: Path,
    pg: psycopg.Connection[Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Production logs at INFO (Powertools' own DEBUG records quote request bodies: never enable them in production).
    caplog.set_level("INFO")
    email, name = "zelda.private@example.com", "Zelda"
    token = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission(email=email, name=name))[
        2
    ]["data"]["token"]
    session = checkout.start_checkout(with_fakes(checkout=OfflineCheckout()), token)
    row = pg.execute("SELECT id FROM reckonings").fetchone()
    assert row is not None
    payload = json.dumps(session_event("checkout.session.completed", session.session_id, str(row["id"])))
    headers = {"stripe-signature": sign(payload, DEV_WEBHOOK_SECRET)}
    assert invoke("webhook", "POST", "/webhooks/stripe", "$default", body=payload, headers=headers)[0] == 200
    deps = with_fakes(OfflineWriter(), OutboxMailer(tmp_path))
    assert generate_report(GenerateJob(reckoning_id=row["id"]), deps) == "ready"
    status, _, body = invoke(
        "report", "GET", f"/api/report/{token}", "GET /api/report/{token}", path_parameters={"token": token}
    )
    assert status == 200
    # Every record with all its structured fields, as Powertools would serialise them.
    logs = "\n".join(str(vars(record)) for record in caplog.records)
    assert "reckoning_id" in logs  # the logs are there, with ids
    secrets = [email, name, token, body["data"]["report"]["title"], SAMPLE_ANSWERS["proud_of"][:30]]
    leaks = [(value, str(vars(r))[:300]) for r in caplog.records for value in secrets if value in str(vars(r))]
    assert leaks == []
