"""The pacing windows, shared by the in-process budget and the fleet budget in Redis."""

from __future__ import annotations

import math

from pyrate_limiter import Duration, Rate

from ._constants import PACING_BURST_DIVISOR, PACING_MARGIN_MS


def pacing_rates(rate_limit: int) -> list[Rate]:
    """The account's budget per second (plus a margin for network jitter against the server's strict rolling
    window), and a tenth of it per tenth of a second to smooth bursts."""
    burst = max(1, math.ceil(rate_limit / PACING_BURST_DIVISOR))
    per_second = Rate(rate_limit, int(Duration.SECOND) + PACING_MARGIN_MS)
    if burst >= rate_limit:
        return [per_second]
    return [Rate(burst, int(Duration.SECOND) // PACING_BURST_DIVISOR), per_second]
