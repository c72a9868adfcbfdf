"""`reckoning` — operator commands, against the local stack or a DATABASE_URL/AWS environment.

With no DATABASE_URL in the environment, the variables the running local stack
wrote to `.local/stack.env` are used, so `reckoning timeline ID` works next to `make dev`.

Stand-ins (emails written to `.eml` files, a local bucket, the offline checkout) are for the local stack only:
outside ENVIRONMENT=local or test, a command that reaches a provider whose setting is missing stops before it
does anything (exit 2), naming the setting. A configuration error is one line, never a traceback.
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

from pydantic import ValidationError

from reckoning import bootstrap, config, db, errors
from reckoning.db.migrate import migrate
from reckoning.domain import operations, sweep
from reckoning.domain.services import costs, erasure
from reckoning.validation import command as validate_command
from reckoning.validation.eval import add_arguments as gate_eval_arguments

Command = Callable[[argparse.Namespace], int]
LOCAL_ENV = Path(".local/stack.env")

# What each command reaches beyond the database, as the settings that make it real. Without them bootstrap would
# hand it a stand-in (a .eml file on this laptop, no queue, a bucket that is not production's), which only the
# local stack may use: a resend would print success while no email left, and a fresh link was minted anyway.
QUEUE: config.Need = "REPORT_QUEUE_URL"
STORE: config.Need = "REPORT_BUCKET"
STRIPE: config.Need = "STRIPE_SECRET_KEY"
NEEDS: dict[str, tuple[config.Need, ...]] = {
    "sweep": (QUEUE, STORE, STRIPE),  # relays the outbox; the purge deletes PDFs and expires open sessions
    "dlq-replay": (QUEUE, "REPORT_DLQ_URL"),
    "regenerate": (QUEUE,),
    "resend-link": ("RESEND_API_KEY",),
    "erase": (STORE, STRIPE),
}
STAND_IN_ENVIRONMENTS = ("local", "test")


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


def _stripe_id(text: str) -> str:
    if not text.strip().startswith(operations.STRIPE_PREFIXES):
        raise argparse.ArgumentTypeError(f"{text!r}: a Checkout session cs_…, payment intent pi_… or charge ch_… id")
    return text.strip()


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


def _find(args: argparse.Namespace) -> int:
    """Ids, statuses and dates only: never the address it was asked with."""
    deps = bootstrap.dependencies()
    if args.email:
        found = operations.find_by_email(deps, args.email)
    else:
        if args.stripe.startswith("ch_") and not _stand_ins_allowed():
            _refuse_without((STRIPE,), "find --stripe ch_…")  # a charge's payment intent is Stripe's to tell
        found = operations.find_by_stripe_id(deps, args.stripe)
    for r in found:
        dates = "  ".join(
            f"{label} {'-' if at is None else f'{at:%Y-%m-%d %H:%M}'}"
            for label, at in (("created", r.created_at), ("paid", r.paid_at), ("ready", r.ready_at))
        )
        print(f"{r.id}  {r.status:<16} {dates}")
    if not found:
        print("no reckoning found" + (" (an erased reckoning keeps no address)" if args.email else ""))
    return 0 if found else 1


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
    find = sub.add_parser("find", help="reckoning ids from an email address or a Stripe id (ids, statuses, dates)")
    what = find.add_mutually_exclusive_group(required=True)
    what.add_argument("--email", metavar="ADDRESS", help="every reckoning of this address")
    what.add_argument(
        "--stripe", metavar="ID", type=_stripe_id, help="a Checkout session cs_…, payment intent pi_… or charge ch_…"
    )
    find.set_defaults(run=_find)
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


def _stand_ins_allowed() -> bool:
    """Only an explicit local or test environment (the local stack's `.local/stack.env` says local) may stand in."""
    return os.environ.get("ENVIRONMENT", "") in STAND_IN_ENVIRONMENTS


class NotConfigured(Exception):
    """A command would reach a provider whose real configuration is missing, outside the local stack."""


def _refuse_without(needs: tuple[config.Need, ...], command: str) -> None:
    absent = config.missing(needs, os.environ)
    if absent:
        raise NotConfigured(
            f"reckoning {command} needs {'; '.join(absent)} (stand-ins only with ENVIRONMENT=local or test,"
            f" or the local stack's {LOCAL_ENV})"
        )


def _settings_error(exc: ValidationError) -> str:
    """pydantic's report of the settings, as one line naming each variable."""
    problems = (f"{'.'.join(str(part) for part in e['loc']).upper() or 'settings'}: {e['msg']}" for e in exc.errors())
    return "configuration: " + "; ".join(problems)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in {"validate", "eval"}:
        _use_local_stack_environment()
    run: Command = args.run
    try:  # an operator gets one line, not a traceback
        if not _stand_ins_allowed():
            _refuse_without(NEEDS.get(args.command, ()), args.command)
        return run(args)
    except NotConfigured as exc:
        print(exc, file=sys.stderr)
        return 2
    except config.MissingSettings as exc:
        print(f"configuration: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        if exc.title != config.Settings.__name__:
            raise
        print(_settings_error(exc), file=sys.stderr)
        return 2
    except db.DatabaseUnreachable as exc:
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        print(f"database unreachable: {lines[0]}", file=sys.stderr)
        return 2
    except errors.ReckoningError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, errors.ServiceUnavailable) and "not configured" in str(exc) else 1


if __name__ == "__main__":
    sys.exit(main())
