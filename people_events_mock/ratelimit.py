"""Per-account rolling-window rate limiter: at most `limit` admissions in any window of one second.

Each account keeps the admission times of its last second in a deque. A request at time `t` is
admitted when fewer than `limit` admissions lie in `(t - 1 s, t]`. That bounds every half-open
second `[s, s + 1 s)` by the limit, which is what the tests check against the stored events'
acceptance times. Rejected requests are not recorded, so a client that backs off for
`Retry-After` seconds always finds room.

Every authenticated Send Event request asks for admission, including those then answered 403.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from people_events_mock.clock import Clock
from people_events_mock.constants import RATE_LIMIT_WINDOW_SECONDS

__all__ = ["Admission", "RollingWindowLimiter"]

# Float noise must not turn a wait of exactly one window into `Retry-After: 2`.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Admission:
    """The limiter's answer: admitted at `at` (POSIX seconds), or rejected with `retry_after` seconds."""

    admitted: bool
    at: float
    retry_after: int = 0


class RollingWindowLimiter:
    """Exact per-account rolling-window limiter. Thread-safe: one lock guards every account's window."""

    def __init__(self, limits: Mapping[str, int], *, clock: Clock, window: float = RATE_LIMIT_WINDOW_SECONDS) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._window = window
        self._admitted: dict[str, deque[float]] = {account: deque() for account in self._limits}
        self._lock = threading.Lock()

    def limit(self, account: str) -> int:
        """The account's admissions per window."""
        return self._limits[account]

    def acquire(self, account: str) -> Admission:
        """Admit one request of `account` now, or say how many whole seconds to wait (at least 1)."""
        with self._lock:
            now = self._clock()
            admitted = self._admitted[account]
            horizon = now - self._window
            while admitted and admitted[0] <= horizon:
                admitted.popleft()
            if len(admitted) < self._limits[account]:
                admitted.append(now)
                return Admission(admitted=True, at=now)
            # The oldest admission leaves the window at admitted[0] + window.
            wait = admitted[0] + self._window - now
            return Admission(admitted=False, at=now, retry_after=max(1, math.ceil(wait - _EPSILON)))

    def reset(self) -> None:
        """Forget every admission."""
        with self._lock:
            for admitted in self._admitted.values():
                admitted.clear()
