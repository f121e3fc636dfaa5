"""Command line: ``python -m people_events_mock`` / ``people-events-mock`` (see ``--help``).

Every bad option, fixtures file, spec or address ends in one line on stderr and exit status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

import uvicorn

from people_events_mock.app import create_app
from people_events_mock.constants import (
    DEFAULT_BODY_TIMEOUT_SECONDS,
    DEFAULT_HEADER_TIMEOUT_SECONDS,
    DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS,
    DEFAULT_MAX_STORE_BYTES,
)
from people_events_mock.fixtures import FixtureError
from people_events_mock.server import bind_socket, exposure_warning, pin_mmap_threshold, uvicorn_config
from people_events_mock.spec import SpecError

__all__ = ["ADMIN_TOKEN_ENV", "main"]

#: The environment variable that can hold the admin token (kept out of the process list, unlike an option).
ADMIN_TOKEN_ENV = "PEOPLE_EVENTS_MOCK_ADMIN_TOKEN"  # noqa: S105 - a variable name, not a secret
_MAX_PORT = 65_535


def _whole(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not (text.isascii() and text.isdigit() and len(text) <= len(str(maximum))):
            raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}")
        value = int(text)
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be {minimum}-{maximum}")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text[:40]!r}") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be 0.1-3600 seconds")
    return value


class _OneLineParser(argparse.ArgumentParser):
    """Usage errors in one line (and exit status 2), like every other error of the CLI."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="people-events-mock",
        description="Reference mock of Infobip People Events Send Event (test use only).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback)")
    parser.add_argument(
        "--port", type=_whole(0, _MAX_PORT), default=8080, help="port to bind (default: 8080; 0 picks a free one)"
    )
    parser.add_argument("--fixtures", metavar="FILE", help="fixtures JSON (format: fixtures.schema.json)")
    parser.add_argument("--spec", metavar="FILE", help="openapi.yaml to take identifier types and limits from")
    parser.add_argument(
        "--rate-limit",
        type=_whole(1, 10_000_000),
        metavar="N",
        help="requests per rolling second for accounts A and B (default 250); F keeps 1,000,000",
    )
    parser.add_argument(
        "--max-store-mb",
        type=_whole(1, 1_000_000),
        metavar="MB",
        default=DEFAULT_MAX_STORE_BYTES // 2**20,
        help="memory budget of stored events in MiB; past it the oldest are evicted (default: %(default)s)",
    )
    parser.add_argument(
        "--header-timeout",
        type=_seconds,
        metavar="S",
        default=DEFAULT_HEADER_TIMEOUT_SECONDS,
        help="close a connection that has not sent a complete request head in S seconds (default: %(default)s)",
    )
    parser.add_argument(
        "--body-timeout",
        type=_seconds,
        metavar="S",
        default=DEFAULT_BODY_TIMEOUT_SECONDS,
        help="answer 408 and close when a request body is not complete S seconds after its head (default: %(default)s)",
    )
    parser.add_argument(
        "--keep-alive-timeout",
        type=_seconds,
        metavar="S",
        default=DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS,
        help="close a keep-alive connection quiet for S seconds (whole seconds, default: %(default)s)",
    )
    parser.add_argument(
        "--max-connections",
        type=_whole(1, 10_000_000),
        metavar="N",
        help="most concurrent connections (default and most: the open-file limit minus 64)",
    )
    parser.add_argument(
        "--admin-token",
        metavar="TOKEN",
        default=os.environ.get(ADMIN_TOKEN_ENV),
        help=f"require Authorization: Bearer TOKEN on the admin API (default: ${ADMIN_TOKEN_ENV}, else none)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="info logs one line per request (default: info)",
    )
    return parser


def _fail(message: str) -> int:
    print(f"people-events-mock: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mock until interrupted."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    warning = exposure_warning(args.host)
    if warning:
        print(warning, file=sys.stderr)
    pin_mmap_threshold()
    try:
        app = create_app(
            fixtures=args.fixtures,
            spec=args.spec,
            rate_limit=args.rate_limit,
            max_store_bytes=args.max_store_mb * 2**20,
            admin_token=args.admin_token,
        )
    except (FixtureError, SpecError, ValueError) as exc:
        return _fail(str(exc))
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host} port {args.port}: {exc.strerror or exc}")
    config = uvicorn_config(
        app,
        log_level=args.log_level,
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
        max_connections=args.max_connections,
    )
    host, port = sock.getsockname()[:2]
    print(f"people-events-mock: listening on http://{f'[{host}]' if ':' in host else host}:{port}", file=sys.stderr)
    with sock:
        uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
