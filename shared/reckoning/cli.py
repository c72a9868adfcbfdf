"""`reckoning` — operator commands, against the local stack or a DATABASE_URL/AWS environment.

With no DATABASE_URL in the environment, the variables the running local stack
wrote to `.local/stack.env` are used, so `reckoning timeline ID` works next to `make dev`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from reckoning import bootstrap, config, errors
from reckoning.db.migrate import migrate
from reckoning.domain import operations, sweep
from reckoning.domain.services import costs, erasure
from reckoning.validation import command as validate_command
from reckoning.validation.eval import add_arguments as gate_eval_arguments

Command = Callable[[argparse.Namespace], int]
LOCAL_ENV = Path(".local/stack.env")


def _migrate(args: argparse.Namespace) -> int:
    applied = migrate(config.database_url())
    print("\n".join(f"applied {name}" for name in applied) or "database is up to date")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    result = sweep.sweep(bootstrap.dependencies())
    print(f"sent {result.sent}, failed {result.failed}")
    return 0 if result.failed == 0 else 1


def _replay(args: argparse.Namespace) -> int:
    s = config.settings()
    if not (s.report_dlq_url and s.report_queue_url):
        print("set REPORT_QUEUE_URL and REPORT_DLQ_URL", file=sys.stderr)
        return 2
    result = operations.replay_dead_letters(bootstrap.dependencies(), args.max)
    print(f"moved {result.moved} message(s) back to the report queue; reopened {result.reopened} reckoning(s)")
    return 0


def _regenerate(args: argparse.Namespace) -> int:
    operations.regenerate(bootstrap.dependencies(), args.reckoning_id)
    print(f"queued a new report for {args.reckoning_id}")
    return 0


def _resend(args: argparse.Namespace) -> int:
    provider_id = operations.resend_link(bootstrap.dependencies(), args.reckoning_id)
    print(f"sent a fresh link (message {provider_id})")
    return 0


def _timeline(args: argparse.Namespace) -> int:
    entries = operations.timeline_of(bootstrap.dependencies(), args.reckoning_id)
    lines = [f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.kind:<8} {entry.detail}" for entry in entries]
    print(json.dumps([entry.as_json() for entry in entries], indent=2) if args.json else "\n".join(lines))
    return 0


_UNITS = {"d": 86400, "h": 3600, "m": 60}


def _duration(text: str) -> timedelta:
    """`7d`, `24h`, `30m`."""
    if len(text) < 2 or text[-1] not in _UNITS or not text[:-1].isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: a number of days, hours or minutes, e.g. 7d, 24h, 30m")
    return timedelta(seconds=int(text[:-1]) * _UNITS[text[-1]])


def _usd(value: object) -> str:
    return "-" if value is None else f"${float(str(value)):.6f}"


def _costs(args: argparse.Namespace) -> int:
    found = costs.summary(bootstrap.dependencies().database, datetime.now(UTC) - args.since)
    r = found.per_report
    print(f"since {found.since:%Y-%m-%d %H:%M} UTC (prices: reckoning/prices.json)")
    rows = [("per report", r), *((f"per call: {m.model}", m) for m in found.per_model)]
    width = max(len(label) for label, _ in rows)
    print(f"{'':<{width}} {'count':>6} {'total':>11} {'p50':>11} {'p95':>11}")
    for label, c in rows:
        print(f"{label:<{width}} {c.count:>6} {_usd(c.total):>11} {_usd(c.p50):>11} {_usd(c.p95):>11}")
    print(f"\n{'input tokens':<{width}} {'uncached':>11} {'cache read':>11} {'cache write':>11} {'saved':>11}")
    for m in found.per_model:
        saved = costs.cache_saving_usd(m.model or "", m.cache_read_tokens, datetime.now(UTC))
        print(
            f"{m.model or '':<{width}} {m.input_tokens:>11} {m.cache_read_tokens:>11} {m.cache_write_tokens:>11}"
            f" {_usd(saved):>11}"
        )
    unpriced = r.unpriced + sum(m.unpriced for m in found.per_model)
    if unpriced:
        print(
            f"unpriced (no price for the model, or no tokens reported): {r.unpriced} report(s), "
            f"{unpriced - r.unpriced} call(s)"
        )
    return 0


def _erase(args: argparse.Namespace) -> int:
    if args.email:
        done = erasure.erase_address(bootstrap.dependencies(), args.email)
    else:
        done = [erasure.erase(bootstrap.dependencies(), args.reckoning, "erased at an operator's request")]
    done = [erased for erased in done if erased.rows or erased.objects or erased.finished]
    for erased in done:  # ids and counts only: never the address
        print(f"erased {erased.reckoning_id}: {erased.rows} database row(s), {erased.objects} stored object(s)")
    print(f"{len(done)} reckoning(s) erased" if done else "nothing to erase")
    return 0


def _eval(args: argparse.Namespace) -> int:
    """The gate over a labelled corpus: offline (rules and the offline judge), or with the real judge when
    ANTHROPIC_API_KEY is set, its cost per report priced from prices.json."""
    from reckoning.validation import eval as gate_eval

    judge = bootstrap.production().judge if config.present("ANTHROPIC_API_KEY") else None
    report = gate_eval.evaluate(args.corpus, judge, args.threshold)
    code = gate_eval.run(args, report)
    if judge is not None:
        tokens = report.as_json()["judgeTokens"]
        cost = costs.cost_usd(judge.model, tokens["input"], tokens["output"], datetime.now(UTC))
        per = cost / max(1, len(report.outcomes)) if cost is not None else None
        print(f"judge {judge.model}: {_usd(cost)} in all, {_usd(per)} a report")
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reckoning", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    sub.add_parser("sweep", help="run the sweeper once: relay the outbox, prune counters").set_defaults(run=_sweep)
    replay = sub.add_parser("dlq-replay", help="move dead-letter messages back to the report queue")
    replay.add_argument("--max", type=int, default=100, help="at most this many messages")
    replay.set_defaults(run=_replay)
    for name, run, text in (
        ("regenerate", _regenerate, "withdraw the report and generate a new version"),
        ("resend-link", _resend, "mint a fresh report link and email it"),
        ("timeline", _timeline, "status changes, payment events, attempts and emails (no personal data)"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("reckoning_id", type=UUID)
        if name == "timeline":
            command.add_argument("--json", action="store_true")
        command.set_defaults(run=run)
    spend = sub.add_parser("costs", help="what reports and model calls cost: count, total, p50, p95")
    spend.add_argument("--since", type=_duration, default=timedelta(days=7), help="e.g. 7d (default), 24h, 30m")
    spend.set_defaults(run=_costs)
    erase = sub.add_parser("erase", help="erase personal data (what accounting needs stays; docs/privacy.md)")
    whose = erase.add_mutually_exclusive_group(required=True)
    whose.add_argument("--email", metavar="ADDRESS", help="every reckoning of this address")
    whose.add_argument("--reckoning", metavar="ID", type=UUID, help="this reckoning")
    erase.set_defaults(run=_erase)
    validate_command.register(sub)
    gate = sub.add_parser("eval", help="the quality gate over a labelled corpus: detection, false positives, misses")
    gate_eval_arguments(gate)
    gate.set_defaults(run=_eval)
    return parser


def _use_local_stack_environment() -> None:
    if "DATABASE_URL" in os.environ or "DATABASE_SECRET_ARN" in os.environ or not LOCAL_ENV.exists():
        return
    for line in LOCAL_ENV.read_text().splitlines():
        name, _, value = line.partition("=")
        if name and not line.startswith("#"):
            os.environ.setdefault(name.strip(), value.strip())
    config.reset()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in {"validate", "eval"}:
        _use_local_stack_environment()
    run: Command = args.run
    try:
        return run(args)
    except errors.ReckoningError as exc:  # an operator gets one line, not a traceback
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
