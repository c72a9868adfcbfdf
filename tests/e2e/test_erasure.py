"""Erasure and the retention purge through the local stack over HTTP: what the person does, what runs on schedule."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reckoning_local import client
from reckoning_local.pollers import ScheduleRunner
from reckoning_local.stack import Stack
from tests.conftest import StartStack
from tests.helpers import (
    SAMPLE_ANSWERS,
    Env,
    found_in_bucket,
    found_in_database,
    submission,
    without_request_id,
)

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")]

EMAIL = "zenobia.quill@example.org"
NAME = "Zenobia"
NEEDLES = [EMAIL, NAME, SAMPLE_ANSWERS["proud_of"], SAMPLE_ANSWERS["support"], SAMPLE_ANSWERS["avoiding"]]


def wait_for(stack: Stack, token: str, status: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if client.request("GET", f"{stack.url}/api/report/{token}").data["status"] == status:
            return
        time.sleep(0.2)
    raise AssertionError(f"not {status} after {timeout_s:.0f} s")


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_submit_pay_wait_erase_then_the_token_is_unknown_and_nothing_of_the_person_is_stored(
    start_stack: StartStack, pg: psycopg.Connection[Any]
) -> None:
    stack = start_stack(schedules=False)
    assert stack.aws is not None and stack.template is not None
    bucket = stack.template.buckets["ReportBucket"].name  # the PDFs; the site bucket holds no personal data
    created = client.request("POST", f"{stack.url}/api/reckoning", json_body=submission(email=EMAIL, name=NAME))
    token = created.data["token"]
    checkout_url = client.request("POST", f"{stack.url}/api/checkout", json_body={"token": token}).data["checkoutUrl"]
    assert client.request("POST", checkout_url).status == 303  # the offline checkout's Pay button
    wait_for(stack, token, "ready")
    assert found_in_bucket(stack.aws.s3(), bucket, NEEDLES)  # the scan finds the person before
    assert files_under(stack.save_objects())  # the PDF, on disk as well

    erased = client.request("DELETE", f"{stack.url}/api/report/{token}")

    assert (erased.status, erased.json) == (202, {"success": True, "data": {"erased": True}})
    unknown = client.request("GET", f"{stack.url}/api/report/{'x' * 43}")
    for method in ("GET", "DELETE"):
        again = client.request(method, f"{stack.url}/api/report/{token}")
        # The same bytes but for the request's own id (of the same length).
        assert (again.status, without_request_id(again.json)) == (404, without_request_id(unknown.json))
        assert len(again.raw) == len(unknown.raw)
    assert found_in_database(pg, NEEDLES) == []
    assert found_in_bucket(stack.aws.s3(), bucket, NEEDLES) == []
    assert files_under(stack.save_objects()) == []  # the local S3 store on disk too


def test_the_retention_purge_runs_on_the_sweepers_schedule_and_erases_what_its_settings_say(
    start_stack: StartStack, env: Env, pg: psycopg.Connection[Any]
) -> None:
    env(UNPAID_RETENTION_DAYS="1", RETENTION_DAYS="2")
    stack = start_stack(schedules=False, pollers=False)
    assert stack.template is not None
    for age, status in ((3, "awaiting_payment"), (3, "ready"), (0, "awaiting_payment"), (1, "ready")):
        pg.execute(
            "INSERT INTO reckonings (email, questionnaire_version, answers, status, created_at, ready_at)"
            " VALUES (%s, '2025-01', '{}', %s, now() - make_interval(days => %s), now() - make_interval(days => %s))",
            (EMAIL, status, age, age),
        )
    # The template's own sweeper schedule, run as the stack runs it, only sooner than every minute.
    [schedule] = stack.template.function("SweeperFunction").schedules
    assert schedule.expression == "rate(1 minute)"
    runner = ScheduleRunner(
        "SweeperFunction",
        dataclasses.replace(schedule, period_s=0.2),
        lambda event: stack.invoke("SweeperFunction", event),
        region="eu-west-1",
    )
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(erased(pg)) < 2:
            time.sleep(0.1)
    finally:
        runner.stop()
        runner.join(10)

    assert sorted(erased(pg)) == [(3, "awaiting_payment"), (3, "ready")]


def erased(pg: psycopg.Connection[Any]) -> list[tuple[int, str]]:
    """(age in days, status before) of the erased reckonings."""
    rows = pg.execute(
        "SELECT extract(day FROM now() - r.created_at)::int AS age, e.from_status FROM reckonings r"
        " JOIN reckoning_events e ON e.reckoning_id = r.id AND e.to_status = 'erasing' WHERE r.status = 'erased'"
    ).fetchall()
    return [(row["age"], row["from_status"]) for row in rows]
