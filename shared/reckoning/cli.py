"""`reckoning` — operator commands. Each subcommand lives beside the code it drives and
registers itself here through a `register(subparsers)` function."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from reckoning import config

Command = Callable[[argparse.Namespace], int]


def _migrate(args: argparse.Namespace) -> int:
    from reckoning.db.migrate import migrate

    applied = migrate(config.database_url())
    print("\n".join(f"applied {name}" for name in applied) or "database is up to date")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reckoning", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations to DATABASE_URL").set_defaults(run=_migrate)
    from reckoning.validation import command as validate_command

    validate_command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Command = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
