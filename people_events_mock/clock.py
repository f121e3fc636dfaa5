"""The mock's sense of time: a clock returning POSIX seconds, injectable for deterministic tests."""

from __future__ import annotations

import asyncio
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


def format_utc(timestamp: float) -> str:
    """ISO 8601 in UTC with microseconds and a `Z`, e.g. ``2024-05-17T15:47:50.413915Z``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
