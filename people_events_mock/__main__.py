"""Command line.

``python -m people_events_mock [--host 127.0.0.1] [--port 8080] [--fixtures FILE] [--rate-limit N]``
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import uvicorn

from people_events_mock.app import create_app
from people_events_mock.faults import QuietInjectedResets
from people_events_mock.fixtures import FixtureError
from people_events_mock.server import uvicorn_options
from people_events_mock.testing import exposure_warning

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="people-events-mock",
        description="Reference mock of Infobip People Events Send Event (test use only).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (default: 8080; 0 picks a free one)")
    parser.add_argument("--fixtures", metavar="FILE", help="fixtures JSON (format: fixtures.schema.json)")
    parser.add_argument(
        "--rate-limit",
        type=_positive_int,
        metavar="N",
        help="requests per rolling second for accounts A and B (default 250); F keeps 1,000,000",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="info logs one line per request (default: info)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mock until interrupted."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    warning = exposure_warning(args.host)
    if warning:
        print(warning, file=sys.stderr)
    try:
        app = create_app(fixtures=args.fixtures, rate_limit=args.rate_limit)
    except (FixtureError, OSError) as exc:
        print(f"people-events-mock: {exc}", file=sys.stderr)
        return 2
    QuietInjectedResets.install()
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, **uvicorn_options())
    return 0


if __name__ == "__main__":
    sys.exit(main())
