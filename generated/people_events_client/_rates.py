# copied from codegen/overlay/_rates.py by `make regenerate`; edit there, never here.
"""How a budget paces, shared by the in-process budget and the fleet budget in Redis. Times in milliseconds.

Two rules, both must allow a permit:

- **The account's second**: at most ``rate_limit`` permits in any ``second_ms`` (a second plus a margin for jitter
  in transit), each counted from when its request was written once that is known. This is the rule the server
  enforces, counting a request when it arrives.
- **Spacing**: permits follow a schedule one ``spacing_ms`` apart (GCRA: a theoretical arrival time that advances
  by exactly one interval per permit), with up to ``burst`` permits early. This spreads the second's budget over
  the second instead of sending it all at once, and because the schedule advances by whole intervals, a waiter
  that wakes a little late costs nothing (a window of permit times would drift by every late wake-up).
"""

from __future__ import annotations

import math

import attrs

from ._constants import PACING_BURST_DIVISOR, PACING_MARGIN_MS


@attrs.frozen
class Pacing:
    """The two rules of one budget."""

    rate_limit: int
    second_ms: int
    spacing_ms: float
    burst: int

    @property
    def early_ms(self) -> float:
        """How far ahead of the schedule a permit may be taken (``burst`` permits at once)."""
        return (self.burst - 1) * self.spacing_ms


def pacing_for(rate_limit: int) -> Pacing:
    """The rules for ``rate_limit`` requests per second."""
    return Pacing(
        rate_limit=rate_limit,
        second_ms=1000 + PACING_MARGIN_MS,
        spacing_ms=1000 / rate_limit,
        burst=max(1, math.ceil(rate_limit / PACING_BURST_DIVISOR)),
    )
