# copied from codegen/overlay/cli/common.py by `make regenerate`; edit there, never here.
"""What the ``people-events`` subcommands share: credentials from options or the environment, the facades a
drainer sends through, and the one error type that becomes one line on stderr and exit 2."""

from __future__ import annotations

import os

from .. import AsyncPeopleEvents, FleetLimiter
from ..delivery.facades import drain_facades

EXIT_OK, EXIT_DEAD_LETTERS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """A bad option or environment: one line, exit 2."""


def credentials(base_url: str | None, api_key: str | None) -> tuple[str, str]:
    """The options' base URL and API key, else ``INFOBIP_BASE_URL`` / ``INFOBIP_API_KEY``."""
    base_url = base_url or os.environ.get("INFOBIP_BASE_URL")
    api_key = api_key or os.environ.get("INFOBIP_API_KEY")
    if not base_url:
        raise UsageError("no base URL: give --base-url or set INFOBIP_BASE_URL")
    if not api_key:
        raise UsageError("no API key: give --api-key or set INFOBIP_API_KEY")
    return base_url, api_key


def fleet_limiter(redis_url: str | None, rate_limit: int) -> FleetLimiter | None:
    """``redis_limiter(redis_url)`` for ``--redis``, or None without it."""
    if redis_url is None:
        return None
    from .. import redis_limiter

    try:
        return redis_limiter(redis_url, rate_limit=rate_limit)
    except ImportError:
        raise UsageError("--redis needs the redis package: pip install 'infobip-people-events-client[redis]'") from None
    except ValueError as err:
        raise UsageError(f"--redis: {err}") from None


def facades(
    base_url: str, api_key: str, *, concurrency: int, rate_limit: int, redis_url: str | None
) -> list[AsyncPeopleEvents]:
    """The drainer's facades (``drain_facades``); a bad option is a ``UsageError``."""
    limiter = fleet_limiter(redis_url, rate_limit)
    try:
        return drain_facades(base_url, api_key=api_key, concurrency=concurrency, rate_limit=rate_limit, limiter=limiter)
    except ValueError as error:
        raise UsageError(str(error)) from None
