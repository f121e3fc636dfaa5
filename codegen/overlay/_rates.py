"""The pacing windows, shared by the in-process budget and the fleet budget in Redis. Times in milliseconds, as
the windows are counted."""

from __future__ import annotations

import math

import attrs

from ._constants import PACING_BURST_DIVISOR, PACING_MARGIN_MS


@attrs.frozen
class Window:
    """At most ``limit`` permits in any ``interval_ms`` milliseconds."""

    limit: int
    interval_ms: int
    from_response: bool = False
    """Counts a permit from its response once that arrives: the window that mirrors the server's rolling second.
    A smoothing window counts permits from when they were taken (a late response would only slow it down)."""


def pacing_windows(rate_limit: int) -> list[Window]:
    """The account's budget per second (plus a margin for network jitter against the server's strict rolling
    window), and a tenth of it per tenth of a second to smooth bursts."""
    burst = max(1, math.ceil(rate_limit / PACING_BURST_DIVISOR))
    per_second = Window(rate_limit, 1000 + PACING_MARGIN_MS, from_response=True)
    if burst >= rate_limit:
        return [per_second]
    return [Window(burst, 1000 // PACING_BURST_DIVISOR), per_second]
