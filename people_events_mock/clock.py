"""The mock's sense of time: a clock returning POSIX seconds, injectable for deterministic tests."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

__all__ = ["Clock", "Sleep", "default_sleep", "format_utc", "system_clock"]

#: Returns the current time as POSIX seconds (UTC). The limiter and occurredTime both read it.
Clock = Callable[[], float]
#: Waits the given number of seconds (the `delay=<ms>` fault uses it).
Sleep = Callable[[float], Awaitable[None]]


class _SteadyWallClock:
    """Wall-clock seconds that never go backwards: the wall time at start plus a monotonic offset.

    A system clock step (NTP) would otherwise let the rolling-window limiter admit too much or
    too little.
    """

    def __init__(self) -> None:
        self._wall_start = time.time()
        self._mono_start = time.monotonic()

    def __call__(self) -> float:
        return self._wall_start + (time.monotonic() - self._mono_start)


def system_clock() -> Clock:
    """A fresh steady wall clock (the default of `create_app`)."""
    return _SteadyWallClock()


async def _asyncio_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


default_sleep: Sleep = _asyncio_sleep


@functools.lru_cache(maxsize=2)
def _utc_second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def format_utc(timestamp: float) -> str:
    """ISO 8601 in UTC with microseconds and a `Z`, e.g. ``2024-05-17T15:47:50.413915Z``."""
    # Every 201 needs one: the date and time are formatted once a second, the microseconds each time.
    second, microsecond = divmod(round(timestamp * 1_000_000), 1_000_000)
    return f"{_utc_second(second)}.{microsecond:06d}Z"
