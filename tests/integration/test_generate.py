"""The generation worker: claim, write and validate, save, PDF, email, ready — and every way it can stop."""

from __future__ import annotations

import copy
import json
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from reckoning import errors, pdf
from reckoning.dependencies import Dependencies
from reckoning.models.job import GenerateJob
from reckoning.models.report import Report
from reckoning.models.submission import Submission
from reckoning.ports import Draft, Mailer, OutgoingEmail
from reckoning.providers import aws
from reckoning.providers.email import OutboxMailer
from reckoning.providers.offline_writer import OfflineWriter
from reckoning_local.events import LambdaContext
from tests.helpers import count, generate_report, invoke, load_function, submission, with_fakes


class Crash(BaseException):
    """A process dying mid-step: not an Exception, so no cleanup code runs (as in a real crash)."""


@dataclass
class ScriptedWriter:
    """Writes with the offline writer unless told otherwise; remembers the feedback it was given."""

    script: list[Any] = field(default_factory=list)  # per call: None (write well), a dict (this content), or raise
    model: str = "scripted"
    feedback: list[list[str]] = field(default_factory=list)

    def write(self, sub: Submission, feedback: Sequence[str] = ()) -> Draft:
        self.feedback.append(list(feedback))
        step = self.script.pop(0) if self.script else None
        if isinstance(step, BaseException):
            raise step
        content = step if isinstance(step, dict) else OfflineWriter().write(sub).content
        return Draft(content, self.model, "end_turn", 1000, 800, 5)


@dataclass
class CrashAfter:
    """Wraps a collaborator's method: the call goes through, then the process 'dies'."""

    inner: Any
    method: str

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.inner, name)
        if name != self.method:
            return real

        def crashing(*args: Any, **kwargs: Any) -> Any:
            real(*args, **kwargs)
            raise Crash(name)

        return crashing


@pytest.fixture
def deps(database_url: str, report_bucket: str, tmp_path: Path) -> Dependencies:
    return with_fakes(ScriptedWriter(), OutboxMailer(tmp_path / "outbox"))


def paid_reckoning(pg: psycopg.Connection[Any], **overrides: Any) -> UUID:
    status, _, _ = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission(**overrides))
    assert status == 201
    row = pg.execute(
        "UPDATE reckonings SET status = 'paid' WHERE id = (SELECT id FROM reckonings ORDER BY created_at DESC LIMIT 1)"
        " RETURNING id"
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def run(reckoning_id: UUID, deps: Dependencies, *, final: bool = False) -> str:
    return generate_report(GenerateJob(reckoning_id=reckoning_id), deps, final_receive=final)


def status_of(pg: psycopg.Connection[Any], reckoning_id: UUID) -> str:
    row = pg.execute("SELECT status FROM reckonings WHERE id = %s", (reckoning_id,)).fetchone()
    assert row is not None
    return str(row["status"])


def pdf_objects(bucket: str) -> list[str]:
    return [o["Key"] for o in aws.s3().list_objects_v2(Bucket=bucket).get("Contents", [])]


def outbox_files(deps: Dependencies) -> list[Path]:
    assert isinstance(deps.mailer, OutboxMailer)
    return sorted(deps.mailer.directory.glob("*.eml")) if deps.mailer.directory.exists() else []


def link_token(deps: Dependencies) -> str:
    [eml] = outbox_files(deps)
    text = eml.read_text()
    start = text.index("/report#") + len("/report#")  # the token travels in the fragment
    return text[start : start + 43]


def test_a_paid_reckoning_becomes_ready_with_one_report_pdf_and_email(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    rid = paid_reckoning(pg)
    assert run(rid, deps) == "ready"
    assert status_of(pg, rid) == "ready"
    report = pg.execute("SELECT version, released, confidence, layer_results, pdf_key FROM reports").fetchone()
    assert report is not None and report["released"] and report["version"] == 1
    assert float(report["confidence"]) >= 0.8
    assert len(report["layer_results"]["layers"]) == 10
    assert pdf_objects(report_bucket) == [report["pdf_key"]]
    assert len(outbox_files(deps)) == 1
    assert pg.execute("SELECT kind, status FROM emails").fetchall() == [{"kind": "report_ready", "status": "sent"}]
    assert count(pg, "generation_attempts") == 1

    # The emailed link opens the report.
    token = link_token(deps)
    status, headers, body = invoke(
        "report", "GET", f"/api/report/{token}", "GET /api/report/{token}", path_parameters={"token": token}
    )
    assert status == 200
    assert body["data"]["status"] == "ready"
    assert body["data"]["report"]["title"]
    assert body["data"]["pdfUrl"] == f"/api/report/{token}/pdf"
    assert headers["ETag"]


@pytest.mark.parametrize(
    "crash_at",
    ["after the model call", "after save", "after upload", "after email"],
)
def test_a_crash_at_any_step_then_redelivery_gives_one_of_everything(
    crash_at: str, database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    rid = paid_reckoning(pg)
    crashing = {
        "after the model call": replace(deps, writer=CrashAfter(deps.writer, "write")),
        "after save": replace(deps, store=CrashAfter(deps.store, "pdf_key")),
        "after upload": replace(deps, store=CrashAfter(deps.store, "put_pdf_if_absent")),
        "after email": replace(deps, mailer=CrashAfter(deps.mailer, "send")),
    }[crash_at]
    with pytest.raises(Crash):
        run(rid, crashing)
    assert status_of(pg, rid) == "generating"
    # SQS redelivers after the visibility timeout, by which time the dead worker's lease has run out.
    pg.execute("UPDATE reckonings SET lease_expires_at = now() - interval '1 second'")
    assert run(rid, deps) == "ready"
    assert run(rid, deps) == "skipped"  # and any further duplicate does nothing
    assert count(pg, "reports") == 1
    assert pg.execute("SELECT version FROM reports").fetchone() == {"version": 1}
    assert len(pdf_objects(report_bucket)) == 1
    assert len(outbox_files(deps)) == 1
    assert pg.execute("SELECT count(*) AS n FROM emails WHERE status = 'sent'").fetchone() == {"n": 1}


def test_a_live_lease_keeps_a_second_worker_out(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    rid = paid_reckoning(pg)
    with pytest.raises(Crash):
        run(rid, replace(deps, writer=CrashAfter(deps.writer, "write")))
    assert run(rid, deps) == "skipped"
    assert status_of(pg, rid) == "generating"


def bad_report() -> dict[str, Any]:
    report = OfflineWriter().write(Submission.of("Ada", submission()["answers"])).content
    broken = copy.deepcopy(report)
    broken["summary"] = "As an AI language model, I cannot know you, [Name]. Lorem ipsum."
    return broken


def test_failed_validation_regenerates_with_feedback_then_releases(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    rid = paid_reckoning(pg)
    writer = ScriptedWriter(script=[bad_report(), None])
    assert run(rid, replace(deps, writer=writer)) == "ready"
    assert writer.feedback[0] == []
    assert writer.feedback[1], "the second attempt is told what was wrong"
    passed = [r["passed"] for r in pg.execute("SELECT passed FROM generation_attempts ORDER BY attempt")]
    assert passed == [False, True]


def test_reports_that_never_pass_go_to_review_unreleased(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    rid = paid_reckoning(pg)
    writer = ScriptedWriter(script=[bad_report()] * 3)
    assert run(rid, replace(deps, writer=writer)) == "needs_review"
    assert status_of(pg, rid) == "needs_review"
    assert pg.execute("SELECT released FROM reports").fetchone() == {"released": False}
    assert count(pg, "generation_attempts") == 3
    assert pdf_objects(report_bucket) == []
    assert outbox_files(deps) == []


def test_a_permanent_provider_failure_fails_without_retrying(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    rid = paid_reckoning(pg)
    writer = ScriptedWriter(script=[errors.PermanentFailure("spend limit", kind="spend_limit")])
    assert run(rid, replace(deps, writer=writer)) == "failed"
    assert status_of(pg, rid) == "failed"
    assert pg.execute("SELECT error_class FROM generation_attempts").fetchone() == {"error_class": "PermanentFailure"}


def test_a_transient_failure_is_retried_by_sqs_and_the_last_receive_marks_failed(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    rid = paid_reckoning(pg)
    writer = ScriptedWriter(script=[errors.TransientFailure("overloaded")] * 2)
    with pytest.raises(errors.TransientFailure):
        run(rid, replace(deps, writer=writer))
    assert status_of(pg, rid) == "generating"  # lease released: the redelivery may claim it at once
    with pytest.raises(errors.TransientFailure):
        run(rid, replace(deps, writer=writer), final=True)
    assert status_of(pg, rid) == "failed"
    reason = pg.execute("SELECT status_reason FROM reckonings").fetchone()
    assert reason is not None and "last receive" in reason["status_reason"]


@dataclass
class QuotaExhausted:
    def send(self, email: OutgoingEmail, to: str, idempotency_key: str) -> str:
        raise errors.PermanentFailure("quota", kind="email_quota")


def test_an_exhausted_email_quota_still_releases_the_report(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    rid = paid_reckoning(pg)
    mailer: Mailer = QuotaExhausted()
    assert run(rid, replace(deps, mailer=mailer)) == "ready"
    assert pg.execute("SELECT status, error_class FROM emails").fetchone() == {
        "status": "failed",
        "error_class": "email_quota",
    }


@pytest.mark.parametrize("state", ["awaiting_payment", "ready", "refunded", "failed"])
def test_only_paid_reckonings_are_claimed(
    state: str, database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    rid = paid_reckoning(pg)
    pg.execute("UPDATE reckonings SET status = %s", (state,))
    assert run(rid, deps) == "skipped"
    assert count(pg, "reports") == 0


# --- the Lambda handler: batches and partial failures ---------------------------------------------


def sqs_event(bodies: list[str], receive_count: int = 1) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": "1700000000000",
                    "SenderId": "x",
                    "ApproximateFirstReceiveTimestamp": "1700000000000",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:reckoning-reports",
                "awsRegion": "eu-west-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def test_a_batch_of_ten_with_three_poison_records_reports_exactly_those_three(
    database_url: str,
    report_bucket: str,
    deps: Dependencies,
    pg: psycopg.Connection[Any],
) -> None:
    ids = [paid_reckoning(pg) for _ in range(7)]
    poison = [paid_reckoning(pg) for _ in range(3)]

    @dataclass
    class PoisonAware(ScriptedWriter):
        def write(self, sub: Submission, feedback: Sequence[str] = ()) -> Draft:
            if sub.answers.get("support") == "poison":
                raise errors.TransientFailure("boom")
            return super().write(sub, feedback)

    pg.execute('UPDATE reckonings SET answers = answers || \'{"support": "poison"}\' WHERE id = ANY(%s)', (poison,))
    app = load_function("generate")
    order = ids[:3] + poison[:1] + ids[3:5] + poison[1:] + ids[5:]
    event = sqs_event([json.dumps({"reckoningId": str(i), "reason": "payment"}) for i in order])
    context = LambdaContext(function_name="generate", timeout_s=900)
    result = app.lambda_handler(event, context, deps=replace(deps, writer=PoisonAware()))
    failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    assert failed == {f"m{order.index(p)}" for p in poison}
    assert {status_of(pg, i) for i in ids} == {"ready"}


def test_malformed_messages_are_dropped_not_retried(database_url: str) -> None:
    app = load_function("generate")
    event = sqs_event(["not json", json.dumps({"reckoningId": "nope"}), json.dumps({"other": 1})])
    assert app.lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}


def test_an_event_without_records_is_an_error(database_url: str) -> None:
    with pytest.raises(ValueError, match="Records"):
        load_function("generate").lambda_handler({"Records": []}, LambdaContext())


# --- fetching the finished report -----------------------------------------------------------------


def ready_token(pg: psycopg.Connection[Any], deps: Dependencies) -> str:
    rid = paid_reckoning(pg)
    assert run(rid, deps) == "ready"
    return link_token(deps)


def get(path: str, token: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    route = "GET /api/report/{token}" + ("/pdf" if path.endswith("/pdf") else "")
    return invoke("report", "GET", path, route, path_parameters={"token": token}, headers=headers)


def test_a_ready_report_is_cached_privately_with_an_etag(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    token = ready_token(pg, deps)
    status, headers, _ = get(f"/api/report/{token}", token)
    assert status == 200 and headers["Cache-Control"].startswith("private")
    again, _, body = get(f"/api/report/{token}", token, headers={"if-none-match": headers["ETag"]})
    assert again == 304 and not body


def test_the_pdf_route_redirects_to_a_short_lived_presigned_url(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    token = ready_token(pg, deps)
    status, headers, _ = get(f"/api/report/{token}/pdf", token)
    assert status == 302
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    with urllib.request.urlopen(headers["Location"]) as response:  # noqa: S310 - moto on loopback
        assert response.read().startswith(b"%PDF")


def test_the_pdf_route_never_writes_a_pdf_a_ready_report_without_one_is_a_conflict(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    # Only the generate function may write PDFs (least privilege): the public route links what the worker recorded
    token = ready_token(pg, deps)
    for key in pdf_objects(report_bucket):
        aws.s3().delete_object(Bucket=report_bucket, Key=key)
    assert get(f"/api/report/{token}/pdf", token)[0] == 302
    assert pdf_objects(report_bucket) == []  # nothing rendered or written by the route
    pg.execute("UPDATE reports SET pdf_key = NULL")
    status, _, body = get(f"/api/report/{token}/pdf", token)
    assert (status, body["error"]["code"]) == (409, "CONFLICT")
    assert pdf_objects(report_bucket) == []


def test_a_versions_pdf_written_by_a_redelivery_is_dated_when_the_version_was_written(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    # Given a report saved two days ago whose worker died before rendering it, and the redelivery that renders it
    rid = paid_reckoning(pg)
    with pytest.raises(Crash):
        run(rid, replace(deps, store=CrashAfter(deps.store, "pdf_key")))
    pg.execute("UPDATE reports SET updated_at = now() - interval '2 days'")
    pg.execute("UPDATE reckonings SET lease_expires_at = now() - interval '1 second'")
    assert run(rid, deps) == "ready"
    [key] = pdf_objects(report_bucket)
    by_worker = aws.s3().get_object(Bucket=report_bucket, Key=key)["Body"].read()
    # Then it is dated the day the version was written, as any later render of it would be
    stored = pg.execute("SELECT content, updated_at FROM reports").fetchone()
    assert stored is not None
    assert by_worker == pdf.render(Report.model_validate(stored["content"]), "Ada", stored["updated_at"])


def test_the_pdf_of_an_unfinished_reckoning_is_a_conflict(database_url: str, pg: psycopg.Connection[Any]) -> None:
    token = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())[2]["data"]["token"]
    status, _, body = get(f"/api/report/{token}/pdf", token)
    assert (status, body["error"]["code"]) == (409, "CONFLICT")


def test_no_model_call_starts_that_could_outlast_the_invocation(
    database_url: str, report_bucket: str, deps: Dependencies, pg: psycopg.Connection[Any]
) -> None:
    import time

    rid = paid_reckoning(pg)
    with pytest.raises(errors.TransientFailure, match="time"):
        generate_report(GenerateJob(reckoning_id=rid), deps, deadline=time.monotonic() + 10)
    assert status_of(pg, rid) == "paid"  # not even claimed: SQS redelivers it to a fresh invocation


def test_regeneration_stops_when_time_runs_short_and_keeps_the_best(
    database_url: str,
    report_bucket: str,
    deps: Dependencies,
    pg: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    @dataclass
    class SlowWriter(ScriptedWriter):
        def write(self, sub: Submission, feedback: Sequence[str] = ()) -> Draft:
            time.sleep(0.2)
            return super().write(sub, feedback)

    rid = paid_reckoning(pg)
    writer = SlowWriter(script=[bad_report(), None])
    deadline = time.monotonic() + deps.policy.model_call_budget_s + 0.1  # room for one attempt, not two
    outcome = generate_report(GenerateJob(reckoning_id=rid), replace(deps, writer=writer), deadline=deadline)
    assert outcome == "needs_review"
    assert len(writer.feedback) == 1
