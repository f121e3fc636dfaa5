"""The ``people-events`` command (also ``python -m people_events_client``).

    people-events send FILE|- [--format jsonl|csv] [--base-url URL] [--api-key KEY] [--journal PATH]
                       [--dead-letter PATH] [--rate-limit N] [--concurrency N] [--redis URL] [--dry-run]
    people-events drain STORE_URL [--base-url URL] [--api-key KEY] [--rate-limit N] [--concurrency N]
                        [--redis URL] [--lease SECONDS] [--retention SECONDS] [--until-empty]
    people-events migrate STORE_URL

The live progress bar needs the ``cli`` extra (rich); everything else needs only the client's dependencies.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .. import __version__
from .common import EXIT_INTERRUPTED, EXIT_USAGE
from .drain import DrainCommandOptions, drain_command, migrate_command
from .send import SendOptions, send_command

__all__ = ("main",)


class _Parser(argparse.ArgumentParser):
    """argparse that never echoes an unknown argument's value (it may be a mistyped ``--api-key SECRET``)."""

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            shown = " ".join(arg.split("=", 1)[0] if arg.startswith("-") else "..." for arg in extras)
            self.error(f"unrecognized arguments: {shown}")
        return parsed

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="people-events", description="Infobip People Events from the command line.")
    parser.add_argument("--version", action="version", version=f"people-events {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=argparse.ArgumentParser)
    send = commands.add_parser(
        "send",
        help="send every row of a JSONL or CSV file, exactly once, resumable",
        description=(
            "Send every row of FILE (or - for standard input) as a People event, at the account's rate, exactly "
            "once: a journal records every outcome, so the same command resumes after a crash or Ctrl-C. Rows "
            "the server rejects, or that fail local checks, go to the dead-letter file. Exit codes: 0 all sent, "
            "1 some rows dead-lettered, 2 usage or input error, 130 interrupted (run again to resume)."
        ),
    )
    send.add_argument("file", metavar="FILE", help="JSONL or CSV input; - reads standard input (needs --journal)")
    send.add_argument("--format", choices=("jsonl", "csv"), help="input format (default: csv for *.csv, else jsonl)")
    send.add_argument("--base-url", help="API base URL (default: $INFOBIP_BASE_URL)")
    send.add_argument("--api-key", help="API key (default: $INFOBIP_API_KEY, which keeps it out of `ps`)")
    send.add_argument("--journal", metavar="PATH", help="journal file (default: FILE.journal.sqlite)")
    send.add_argument("--dead-letter", metavar="PATH", help="dead-letter JSONL (default: FILE.rejected.jsonl)")
    send.add_argument("--rate-limit", type=_positive_int, default=250, metavar="N", help="requests/s (default 250)")
    send.add_argument("--concurrency", type=_positive_int, default=64, metavar="N", help="sends at once (default 64)")
    send.add_argument("--redis", metavar="URL", help="share the rate limit with other senders through Redis")
    send.add_argument("--dry-run", action="store_true", help="check every row locally, print problems, send nothing")
    send.add_argument(
        "--progress-interval",
        type=_positive_float,
        default=5.0,
        metavar="SECONDS",
        help="seconds between progress lines when stderr is not a terminal (default 5)",
    )
    drain = commands.add_parser(
        "drain",
        help="deliver an outbox's pending events, as a worker process",
        description=(
            "Deliver the pending events of the outbox at STORE_URL (sqlite:///path.db or postgresql://user@host/db) "
            "at the account's rate, until SIGTERM or Ctrl-C (then sends in flight finish and are recorded). Any "
            "number of drainers may share one store; give them --redis to share the rate too. Exit codes: 0 "
            "stopped cleanly (or, with --until-empty, nothing left pending), 2 usage, store or credential error."
        ),
    )
    drain.add_argument("store", metavar="STORE_URL", help="the outbox: sqlite:///path.db or postgresql://...")
    drain.add_argument("--base-url", help="API base URL (default: $INFOBIP_BASE_URL)")
    drain.add_argument("--api-key", help="API key (default: $INFOBIP_API_KEY, which keeps it out of `ps`)")
    drain.add_argument("--rate-limit", type=_positive_int, default=250, metavar="N", help="requests/s (default 250)")
    drain.add_argument("--concurrency", type=_positive_int, default=32, metavar="N", help="sends at once (default 32)")
    drain.add_argument("--redis", metavar="URL", help="share the rate limit with other senders through Redis")
    drain.add_argument(
        "--lease", type=_positive_float, default=60.0, metavar="SECONDS", help="claim lease (default 60)"
    )
    drain.add_argument(
        "--retention",
        type=_positive_float,
        default=7 * 24 * 3600.0,
        metavar="SECONDS",
        help="prune sent events older than this (default 604800: 7 days)",
    )
    drain.add_argument("--until-empty", action="store_true", help="exit once nothing is pending")
    drain.add_argument(
        "--progress-interval",
        type=_positive_float,
        default=60.0,
        metavar="SECONDS",
        help="seconds between progress lines on stderr (default 60)",
    )
    migrate = commands.add_parser(
        "migrate",
        help="create an outbox's schema (idempotent)",
        description=(
            "Create the outbox table at STORE_URL if it is missing (PostgreSQL: run it once per database, at deploy "
            "time; nothing else ever creates it). Idempotent; safe to run from several hosts at once."
        ),
    )
    migrate.add_argument("store", metavar="STORE_URL", help="the outbox: sqlite:///path.db or postgresql://...")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The console script's entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "migrate":
        return migrate_command(args.store)
    if args.command == "drain":
        return drain_command(
            DrainCommandOptions(
                store=args.store,
                base_url=args.base_url,
                api_key=args.api_key,
                rate_limit=args.rate_limit,
                concurrency=args.concurrency,
                redis=args.redis,
                lease=args.lease,
                retention=args.retention,
                until_empty=args.until_empty,
                progress_interval=args.progress_interval,
            )
        )
    options = SendOptions(
        file=args.file,
        format=args.format,
        base_url=args.base_url,
        api_key=args.api_key,
        journal=args.journal,
        dead_letter=args.dead_letter,
        rate_limit=args.rate_limit,
        concurrency=args.concurrency,
        redis=args.redis,
        dry_run=args.dry_run,
        progress_interval=args.progress_interval,
    )
    try:
        return send_command(options)
    except KeyboardInterrupt:  # before the engine's own handler is installed, or after it is gone
        sys.stderr.write("people-events: interrupted\n")
        return EXIT_INTERRUPTED
