"""Pacing to the account's rate limit, before each attempt.

In a process, one budget per (rate_limit_key, rate) is shared by every facade, thread and asyncio task. Across
processes and hosts it lives in Redis (``redis_limiter``); when Redis fails, pacing falls back to the in-process
budget at once for every caller, and the 429 retries remain the backstop.

The in-process budget is pyrate-limiter's sliding-window log (``InMemoryBucket``), asked for a verdict under a
lock. Why not pyrate-limiter's ``Limiter`` around it: each ``Limiter`` starts a leak thread with an event loop of
its own (one thread and three file descriptors per credential, never released); its blocking wait lets every
waiter wake and race, and stamps a permit with the planned wake-up time rather than the real one; and its state
does not survive a fork. Here instead:

- the bucket is leaked inline as it grows, so pacing starts no threads;
- waiters queue on a gate, and one at a time sleeps for exactly the wait the bucket reports;
- budgets are counted by the facades that use them and released when the last one closes;
- a forked child starts with an empty registry (``_fork``), so it never inherits a held gate.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable

from pyrate_limiter import InMemoryBucket, RateItem
from pyrate_limiter.abstracts.algorithm import Decision

from . import _fork
from ._constants import PACING_MIN_WAIT
from ._fleet import FleetLimiter, FleetUnavailable
from ._rates import pacing_rates

Clock = Callable[[], float]


class LocalBudget:
    """One rate_limit_key's budget in this process, and the gates its waiters queue on."""

    def __init__(self, rate_limit: int) -> None:
        self._bucket = InMemoryBucket(pacing_rates(rate_limit))
        self._lock = threading.Lock()
        self._leak_above = 2 * rate_limit
        self.gate = threading.Lock()
        """Held by the one thread that is waiting for this budget."""
        self._async_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def take(self) -> float:
        """0.0 when a permit was taken now; otherwise the seconds until one may be free (nothing is taken)."""
        now_ms = time.monotonic_ns() // 1_000_000
        with self._lock:
            decision = self._bucket.put_decision(RateItem("permit", now_ms))
            assert isinstance(decision, Decision)  # InMemoryBucket answers synchronously
            if decision.allowed:
                if len(self._bucket.items) > self._leak_above:
                    self._bucket.leak(now_ms)
                return 0.0
        return max(PACING_MIN_WAIT, (decision.retry_after_ms or 0) / 1000)

    def async_gate(self) -> asyncio.Lock:
        """The running event loop's gate (an asyncio.Lock belongs to one loop)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            gate = self._async_gates.get(loop)
            if gate is None:
                gate = self._async_gates[loop] = asyncio.Lock()
            return gate


class _Registry:
    """The process's budgets, counted by the pacers that hold them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._budgets: dict[tuple[str, int], tuple[LocalBudget, int]] = {}

    def acquire(self, key: str, rate_limit: int) -> LocalBudget:
        with self._lock:
            budget, users = self._budgets.get((key, rate_limit)) or (LocalBudget(rate_limit), 0)
            self._budgets[(key, rate_limit)] = (budget, users + 1)
            return budget

    def release(self, key: str, rate_limit: int) -> None:
        with self._lock:
            entry = self._budgets.get((key, rate_limit))
            if entry is None:
                return
            budget, users = entry
            if users > 1:
                self._budgets[(key, rate_limit)] = (budget, users - 1)
            else:
                del self._budgets[(key, rate_limit)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._budgets)


_registry = _Registry()


def _new_registry() -> None:
    global _registry  # noqa: PLW0603  (the reset is a rebinding: the child never touches the parent's objects)
    _registry = _Registry()


_fork.reset_in_child(_new_registry)


def budgets_in_use() -> int:
    """How many in-process budgets exist now (one per rate_limit_key and rate held by an open facade)."""
    return len(_registry)


def _left(deadline_at: float | None, clock: Clock) -> float | None:
    return None if deadline_at is None else deadline_at - clock()


class Pacer:
    """One facade's pacing: the fleet budget when there is one and it works, else the in-process budget.

    ``deadline_at`` is on the facade's clock; waits are real (pacing is about real time on the server).
    """

    def __init__(self, key: str, rate_limit: int, fleet: FleetLimiter | None) -> None:
        self.key = key
        self.rate_limit = rate_limit
        self._fleet = fleet
        self._registry = _registry
        self._local = self._registry.acquire(key, rate_limit)
        self._released = False

    def release(self) -> None:
        """Give the in-process budget back (idempotent); the last holder's release frees it."""
        if not self._released:
            self._released = True
            self._registry.release(self.key, self.rate_limit)

    def _take(self, remaining: float | None) -> float:
        if self._fleet is not None and self._fleet.usable():
            try:
                return self._fleet.take(self.key, remaining)
            except FleetUnavailable:
                pass  # paced in-process below; the fleet limiter has warned
        return self._local.take()

    async def _take_async(self, remaining: float | None) -> float:
        if self._fleet is not None and self._fleet.usable():
            try:
                return await self._fleet.take_async(self.key, remaining)
            except FleetUnavailable:
                pass
        return self._local.take()

    def acquire(self, deadline_at: float | None, clock: Clock) -> bool:
        """Wait for a permit; False as soon as none can come before the deadline."""
        remaining = _left(deadline_at, clock)
        if remaining is not None and remaining <= 0:
            return False
        if not self._local.gate.acquire(timeout=-1 if remaining is None else remaining):
            return False
        try:
            while True:
                remaining = _left(deadline_at, clock)
                wait = self._take(remaining)
                if wait == 0:
                    return True
                if remaining is not None and wait >= remaining:
                    return False
                time.sleep(wait)
        finally:
            self._local.gate.release()

    async def acquire_async(self, deadline_at: float | None, clock: Clock) -> bool:
        """The asyncio twin of ``acquire``: tasks queue on the loop's gate and sleep with ``asyncio.sleep``, so no
        thread is held and a cancelled wait takes nothing."""
        remaining = _left(deadline_at, clock)
        if remaining is not None and remaining <= 0:
            return False
        gate = self._local.async_gate()
        try:
            async with asyncio.timeout(remaining):
                await gate.acquire()
        except TimeoutError:
            return False
        try:
            while True:
                remaining = _left(deadline_at, clock)
                wait = await self._take_async(remaining)
                if wait == 0:
                    return True
                if remaining is not None and wait >= remaining:
                    return False
                await asyncio.sleep(wait)
        finally:
            gate.release()
