"""A fake clock for injected time: unit tests never sleep for real."""

from __future__ import annotations

#: A fixed POSIX time for tests that need a wall-clock-like start.
START = 1_700_000_000.0


class FakeClock:
    """Seconds that move only when told to (`advance`) or when the code under test sleeps (`sleep`, `asleep`).

    Works as a monotonic clock for the client (``_clock=clock, _sleep=clock.sleep``) and as the mock's
    POSIX clock (``create_app(clock=clock, sleep=clock.asleep)``). ``sleeps`` records every requested sleep.
    """

    def __init__(self, now: float = START) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
