"""The whole paid flow in one process, as production runs it, with a hand on every step.

Stripe delivers signed events to the webhook function and delivers again until it gets a 200; the sweeper runs
on its schedule; SQS (moto) feeds the generate function one record per invocation; the real Anthropic and Resend
SDKs talk to their stubs; PDFs go to S3 in moto. A case arms one failure at one point of one step, and the world
runs until the order has reached an end state and nothing is left in flight.

Time is real, scaled down: a 1 s lease, a 1 s stale period, a sweep every 0.5 s, retries after 1 s, and a queue
visibility timeout of 20 s (production: 900 s, 300 s, 60 s, 60 s and 5,400 s), longer than any case's bound, so
recovering by waiting it out would fail the case.

A killed process is `Killed` raised where it dies: nothing after it runs, no `except Exception` catches it, its
open transaction rolls back, its connection is gone, its SQS message stays in flight until the visibility
timeout. The next invocation is a fresh process. Messages still in flight when the order has settled are made
visible at once ("the visibility timeout, fast-forwarded"), so every redelivery is seen to do no harm.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, LiteralString
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from reckoning import bootstrap, db
from reckoning.config import DEV_WEBHOOK_SECRET
from reckoning.db import emails, outbox, reckonings, reports
from reckoning.domain import checkout, generate, operations
from reckoning.observability import metrics
from reckoning.providers import aws
from reckoning.providers.checkout import OfflineCheckout
from reckoning.providers.claude import ClaudeWriter
from reckoning.providers.email import ResendMailer
from reckoning.providers.queue import SqsQueue
from reckoning.providers.storage import S3Store
from reckoning.validation import validate
from reckoning_local.events import LambdaContext, sqs_event
from tests.helpers import Env, invoke, load_function, submission, with_fakes
from tests.stubs.anthropic import AnthropicStub
from tests.stubs.resend import ResendStub
from tests.stubs.stripe import refund_event, session_event, sign

LEASE_S = 1
STALE_S = 1
SWEEP_S = 0.5
VISIBILITY_S = 20  # long against every bound: a case that waited for it would fail its bound
RETRY_BASE_S = 0.25  # the first retries after ceil(0.25) = 1 s and ceil(1) = 1 s, then 4 s
FAULT_S = 1.0  # how long an outage lasts
TICK_S = 0.02
INTENT = "pi_fault_suite"

Actor = Literal["stripe", "webhook", "sweeper", "worker"]
Action = Callable[["World"], None]


class Killed(BaseException):
    """The process died here."""


@dataclass
class Hook:
    actor: Actor
    point: str
    action: Action
    clock: bool  # the fault under test (recovery is timed from it), or only what sets the scene
    fired: bool = False


@dataclass
class Ending:
    status: str
    versions: list[tuple[int, bool]]  # (version, released) of the report row, if any
    emails: int  # report emails Resend delivered
    dead_letters: int
    recovery_s: float  # from the fault to the end state (from the payment when no fault struck)
    runs: int  # generate invocations


@dataclass
class World:
    database_url: str
    server_url: str
    queue_url: str
    dlq_url: str
    bucket: str
    anthropic: AnthropicStub
    resend: ResendStub
    monkeypatch: pytest.MonkeyPatch
    env: Env
    hooks: list[Hook] = field(default_factory=list)
    on_failed: Action | None = None  # what on-call does once a reckoning has failed
    fault_at: float | None = None
    actor: Actor = "stripe"
    _undo: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    _events: list[dict[str, Any]] = field(default_factory=list)  # Stripe's deliveries not yet answered 200
    _in_flight: list[str] = field(default_factory=list)  # receipt handles of messages whose handler died
    _runs: int = 0
    _functions: dict[str, ModuleType] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env(
            GENERATION_LEASE_S=str(LEASE_S),
            GENERATION_STALE_AFTER_S=str(STALE_S),
            GENERATION_RETRY_BASE_S=str(RETRY_BASE_S),
            QUEUE_MAX_RECEIVE_COUNT="5",
            ANTHROPIC_API_KEY="sk-ant-fault-suite",
            ANTHROPIC_BASE_URL=self.anthropic.url,
            ANTHROPIC_MAX_RETRIES="1",
            ANTHROPIC_TIMEOUT_S="0.5",
            RESEND_API_KEY="re_fault_suite",
            RESEND_BASE_URL=self.resend.url,
            REPORT_DLQ_URL=self.dlq_url,
        )
        self.set_max_receives(5)
        self._functions = {name: load_function(name) for name in ("generate", "sweeper")}
        for target, name, point in (
            (SqsQueue, "send", "relay"),
            (outbox, "enqueue", "outbox insert"),
            (reckonings, "claim", "claim"),
            (ClaudeWriter, "write", "model call"),  # Claude and Resend, through the stubs
            (reports, "save", "save"),
            (generate, "ensure_pdf", "pdf"),
            (S3Store, "put_pdf_if_absent", "upload"),
            (ResendMailer, "send", "email"),
            (emails, "mark_sent", "email recorded"),
            (reckonings, "finish", "finish"),
        ):
            self._tap(target, name, point)
        self._validate = self._tapped("validation", validate)

    # ---------------------------------------------------------------- arming faults

    def at(self, actor: Actor, point: str, action: Action, *, clock: bool = True) -> None:
        """Run `action` the first time `actor` reaches `point` ("<step>:before" or "<step>:after")."""
        self.hooks.append(Hook(actor, point, action, clock))

    def fire(self, point: str) -> None:
        for hook in self.hooks:
            if not hook.fired and (hook.actor, hook.point) == (self.actor, point):
                hook.fired = True
                if hook.clock:
                    self.fault_at = self.fault_at or time.monotonic()
                hook.action(self)

    def _tapped[**P, R](self, point: str, real: Callable[P, R]) -> Callable[P, R]:
        def tapped(*args: P.args, **kwargs: P.kwargs) -> R:
            self.fire(f"{point}:before")
            result = real(*args, **kwargs)
            self.fire(f"{point}:after")
            return result

        return tapped

    def _tap(self, target: object, name: str, point: str) -> None:
        self.monkeypatch.setattr(target, name, self._tapped(point, getattr(target, name)))

    def later(self, undo: Callable[[], None], after_s: float = FAULT_S) -> None:
        self._undo.append((time.monotonic() + after_s, undo))

    def set_max_receives(self, count: int) -> None:
        """The queue's maxReceiveCount and the worker's setting: one value, as the template's one parameter."""
        self.env(QUEUE_MAX_RECEIVE_COUNT=str(count))
        arn = aws.sqs().get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])["Attributes"]
        policy = {"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": str(count)}
        aws.sqs().set_queue_attributes(
            QueueUrl=self.queue_url,
            Attributes={"RedrivePolicy": json.dumps(policy), "VisibilityTimeout": str(VISIBILITY_S)},
        )

    def database_allows_connections(self, allowed: bool) -> None:
        """A real outage of this test's database: new connections refused, open ones cut."""
        name = str(psycopg.conninfo.conninfo_to_dict(self.database_url)["dbname"])
        with psycopg.connect(self.server_url, autocommit=True) as admin:
            verb = sql.SQL("true" if allowed else "false")
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(sql.Identifier(name), verb))
            if not allowed:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))

    def deliver_now(self, event: dict[str, Any]) -> int:
        """Stripe delivers an event right now (signed with the offline secret)."""
        payload = json.dumps(event)
        headers = {"stripe-signature": sign(payload, DEV_WEBHOOK_SECRET)}
        actor, self.actor = self.actor, "webhook"
        try:
            return invoke("webhook", "POST", "/webhooks/stripe", "$default", body=payload, headers=headers)[0]
        finally:
            self.actor = actor

    # ---------------------------------------------------------------- the flow

    def pay(self) -> UUID:
        """A person submits and pays; Stripe's checkout.session.completed is on its way to the webhook."""
        status, _, body = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission())
        assert status == 201
        token = body["data"]["token"]
        session = checkout.start_checkout(with_fakes(checkout=OfflineCheckout()), token).session_id
        reckoning_id = UUID(str(self.query("SELECT id FROM reckonings")[0]["id"]))
        self._events.append(
            session_event("checkout.session.completed", session, str(reckoning_id), payment_intent=INTENT)
        )
        return reckoning_id

    def run(self, timeout_s: float = 60) -> Ending:
        """Until the order has settled and nothing is in flight; what it ended as."""
        started = time.monotonic()
        next_sweep, settled_at = started + SWEEP_S, None
        while time.monotonic() - started < timeout_s:
            self._undo_due()
            self._stripe()
            if time.monotonic() >= next_sweep:
                self._sweep()
                next_sweep = time.monotonic() + SWEEP_S
            worked = self._work()
            if settled_at is None and self._settled():
                settled_at = time.monotonic()
                self._fast_forward()
            if settled_at is not None and not worked and self._drained():
                return self._ending(settled_at - (self.fault_at or started))
            if not worked:
                time.sleep(TICK_S)
        [row] = self.query("SELECT status FROM reckonings")
        raise AssertionError(f"not settled within {timeout_s} s: {row['status']}")

    def _stripe(self) -> None:
        for event in list(self._events):
            self.actor = "stripe"
            try:
                self.fire("deliver:before")
                if self.deliver_now(event) == 200:
                    self._events.remove(event)
            except Killed:
                self._died()  # Stripe saw no answer: it delivers again

    def _sweep(self) -> None:
        self.actor = "sweeper"
        try:
            self.fire("sweep:before")
            sweeper = self._functions["sweeper"]
            sweeper.lambda_handler({"source": "aws.scheduler"}, LambdaContext(function_name="sweeper"))
        except Killed:
            self._died()
        except Exception:  # noqa: S110 - a failed run (its errors alarm); the next one tries again
            pass

    def _work(self) -> bool:
        """One invocation of the generate function with what one receive returns (BatchSize 1)."""
        received = (
            aws.sqs()
            .receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0, MessageSystemAttributeNames=["All"]
            )
            .get("Messages", [])
        )
        if not received:
            return False
        [message] = received
        self.actor, self._runs = "worker", self._runs + 1
        arn = aws.sqs().get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]
        try:
            self.fire("invoke:before")
            response = self._functions["generate"].lambda_handler(
                sqs_event([dict(message)], arn["QueueArn"]),
                LambdaContext(function_name="generate", timeout_s=900),
                deps=with_fakes(validate=self._validate),  # the process's own, the gate tapped
            )
            if not response["batchItemFailures"]:
                self.fire("delete:before")
                aws.sqs().delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        except Killed:
            self._in_flight.append(message["ReceiptHandle"])
            self._died()
        return True

    def _died(self) -> None:
        """The process is gone: its connection and its unpublished metrics with it."""
        db.reset_database()
        metrics.clear_metrics()

    def _undo_due(self) -> None:
        now = time.monotonic()
        for entry in [e for e in self._undo if e[0] <= now]:
            self._undo.remove(entry)
            entry[1]()

    def _settled(self) -> bool:
        if self._undo or self._events:
            return False
        [row] = self.query("SELECT status FROM reckonings")
        if row["status"] == "failed" and self.on_failed is not None:
            if self._dead_letters():  # the alarm went off and the message is in the DLQ: on-call acts
                on_call, self.on_failed = self.on_failed, None
                on_call(self)
            return False
        pending = self.query("SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL")[0]["n"]
        return row["status"] in {"ready", "needs_review", "failed", "refunded"} and pending == 0

    def _fast_forward(self) -> None:
        for handle in self._in_flight:
            try:
                aws.sqs().change_message_visibility(QueueUrl=self.queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
            except Exception:  # noqa: S110 - received again since: that receive holds it now
                pass
        self._in_flight.clear()

    def _drained(self) -> bool:
        counts = aws.sqs().get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return counts.get("ApproximateNumberOfMessages") == counts.get("ApproximateNumberOfMessagesNotVisible") == "0"

    def _dead_letters(self) -> int:
        counts = aws.sqs().get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(counts["Attributes"].get("ApproximateNumberOfMessages", "0"))

    def _ending(self, recovery_s: float) -> Ending:
        [row] = self.query("SELECT status FROM reckonings")
        versions = [(r["version"], r["released"]) for r in self.query("SELECT version, released FROM reports")]
        sent = [d for d in self.resend.deliveries if (d.idempotency_key or "").startswith("report-ready/")]
        return Ending(row["status"], versions, len(sent), self._dead_letters(), recovery_s, self._runs)

    def query(self, statement: LiteralString) -> list[dict[str, Any]]:
        with psycopg.connect(self.database_url, autocommit=True, row_factory=dict_row) as conn:
            return conn.execute(statement).fetchall()

    def close(self) -> None:
        self.database_allows_connections(True)
        for _, undo in self._undo:
            undo()


# ---------------------------------------------------------------- what a case can do at its point


def kill(world: World) -> None:
    raise Killed


def database_down(world: World) -> None:
    world.database_allows_connections(False)
    world.later(lambda: world.database_allows_connections(True))


def sqs_refuses(world: World) -> None:
    """The queue answers AWS.SimpleQueueService.NonExistentQueue (as for a wrong URL or a deleted queue)."""
    world.env(REPORT_QUEUE_URL=world.queue_url + "-gone")
    world.later(lambda: world.env(REPORT_QUEUE_URL=world.queue_url))


def s3_refuses(world: World) -> None:
    """The bucket answers NoSuchBucket until it is back."""
    aws.s3().delete_bucket(Bucket=world.bucket)

    def back() -> None:
        aws.s3().create_bucket(Bucket=world.bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    world.later(back)


def refunded(world: World) -> None:
    assert world.deliver_now(refund_event(INTENT)) == 200


def replay_dead_letters(world: World) -> None:
    """On-call, after the generation-failed alarm: fix the cause (it passed), `reckoning dlq-replay`."""
    operations.replay_dead_letters(bootstrap.dependencies())
