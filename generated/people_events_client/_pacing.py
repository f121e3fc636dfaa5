# copied from codegen/overlay/_pacing.py by `make regenerate`; edit there, never here.
"""Pacing to the account's rate limit, before each attempt.

In a process, one budget per (rate_limit_key, rate) is shared by every facade, thread and asyncio task. Across
processes and hosts it lives in Redis (``redis_limiter``); when Redis fails, pacing falls back to the in-process
budget at once for every caller, and the 429 retries remain the backstop.

A permit is counted from when it is taken, and again, once the attempt is over, from when its request was written
(``Pacer.settle``; from the attempt's end when that is unknown): the server counts a request when it arrives,
which can be long after the permit (a cold connection, a busy event loop) but right after it was written. So late
requests cannot bunch up with the next second's; what is left is jitter in transit, which the margin covers.

Why a sliding-window log of our own rather than pyrate-limiter (which the first release used): its buckets cannot
move a permit's time; each ``Limiter`` starts a leak thread with an event loop of its own (a thread and three
file descriptors per credential, never released); its blocking wait lets every waiter wake and race; and its
state does not survive a fork. Here:

- the log is trimmed as it is read, so pacing starts no threads;
- waiters queue on a gate, and a few at a time sleep for exactly the wait the log reports;
- budgets are counted by the facades that use them, and freed a window after the last one closes;
- a forked child starts with an empty registry (``_fork``), so it never inherits a held gate.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time
from collections.abc import Callable

import attrs

from . import _fork
from ._constants import PACING_MIN_WAIT, PACING_RELEASE_DELAY, PACING_TAKERS
from ._fleet import FleetLimiter, FleetUnavailable
from ._rates import pacing_for

Clock = Callable[[], float]


def now_ms() -> int:
    """Milliseconds on the monotonic clock that permits and send times are counted on."""
    return time.monotonic_ns() // 1_000_000


class LocalBudget:
    """One rate_limit_key's budget in this process (the account's second as a sorted log of permit times, and the
    spacing schedule; see ``_rates``), and the gates its waiters queue on."""

    def __init__(self, rate_limit: int) -> None:
        self._pacing = pacing_for(rate_limit)
        self._second: list[int] = []
        self._scheduled = 0.0  # the spacing schedule's next permit time (GCRA's theoretical arrival time), ms
        self._lock = threading.Lock()
        self.gate = threading.BoundedSemaphore(PACING_TAKERS)
        """Held by the threads that are asking this budget for a permit."""
        self._async_gates: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def take(self) -> tuple[int | None, float]:
        """(the permit's time, 0.0) when a permit was taken now; else (None, seconds until one may be free)."""
        pacing = self._pacing
        with self._lock:
            now = now_ms()
            second = self._second
            del second[: bisect.bisect_right(second, now - pacing.second_ms)]
            wait = max(0.0, self._scheduled - pacing.early_ms - now)
            if len(second) >= pacing.rate_limit:
                # The permit whose expiry brings the second below its limit.
                wait = max(wait, second[len(second) - pacing.rate_limit] + pacing.second_ms - now)
            if wait > 0:
                return None, max(PACING_MIN_WAIT, wait / 1000)
            self._scheduled = max(self._scheduled, now) + pacing.spacing_ms
            bisect.insort(second, now)
            return now, 0.0

    def restamp(self, taken_at: int, counted_at: int) -> None:
        """Count the permit taken at ``taken_at`` in the account's second from ``counted_at`` (ms) instead."""
        with self._lock:
            second = self._second
            index = bisect.bisect_left(second, taken_at)
            if index < len(second) and second[index] == taken_at:
                del second[index]
            bisect.insort(second, max(counted_at, taken_at))

    def async_gate(self) -> asyncio.Semaphore:
        """The running event loop's gate (an asyncio primitive belongs to one loop); gates of closed loops go, so
        that they do not keep their loops alive."""
        loop = asyncio.get_running_loop()
        with self._lock:
            gate = self._async_gates.get(loop)
            if gate is None:
                for closed in [other for other in self._async_gates if other.is_closed()]:
                    del self._async_gates[closed]
                gate = self._async_gates[loop] = asyncio.Semaphore(PACING_TAKERS)
            return gate


@attrs.frozen
class Permit:
    """A permit to send one attempt: from the in-process budget (``taken_at``) or from the fleet's (``member``)."""

    taken_at: int | None = None
    member: str | None = None


class _Registry:
    """The process's budgets, counted by the pacers that hold them. A budget no pacer holds is kept for one window
    (``PACING_RELEASE_DELAY``) before it is freed, so that short-lived facades of one account still share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._budgets: dict[tuple[str, int], tuple[LocalBudget, int]] = {}
        self._idle: dict[tuple[str, int], float] = {}  # budgets no pacer holds, by when they may be freed

    def _free_expired(self, now: float) -> None:
        for key in [key for key, until in self._idle.items() if until <= now]:
            del self._idle[key]
            del self._budgets[key]

    def acquire(self, key: str, rate_limit: int) -> LocalBudget:
        with self._lock:
            self._free_expired(time.monotonic())
            self._idle.pop((key, rate_limit), None)
            budget, users = self._budgets.get((key, rate_limit)) or (LocalBudget(rate_limit), 0)
            self._budgets[(key, rate_limit)] = (budget, users + 1)
            return budget

    def release(self, key: str, rate_limit: int) -> None:
        with self._lock:
            now = time.monotonic()
            entry = self._budgets.get((key, rate_limit))
            if entry is not None:
                budget, users = entry
                self._budgets[(key, rate_limit)] = (budget, users - 1)
                if users == 1:
                    self._idle[(key, rate_limit)] = now + PACING_RELEASE_DELAY
            self._free_expired(now)

    def held(self) -> int:
        """Budgets some pacer holds now."""
        with self._lock:
            return sum(1 for _, users in self._budgets.values() if users > 0)

    def __len__(self) -> int:
        """Budgets in memory, idle ones included (freed a window after their last release)."""
        with self._lock:
            self._free_expired(time.monotonic())
            return len(self._budgets)


_registry = _Registry()


def _new_registry() -> None:
    global _registry  # noqa: PLW0603  (the reset is a rebinding: the child never touches the parent's objects)
    _registry = _Registry()


_fork.reset_in_child(_new_registry)


def budgets_in_use() -> int:
    """How many in-process budgets open facades hold now (one per rate_limit_key and rate)."""
    return _registry.held()


def budgets_in_memory() -> int:
    """How many in-process budgets exist now: held ones, and released ones still within their last window."""
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
        self._generation = _fork.generation()
        self._local = self._registry.acquire(key, rate_limit)
        self._released = False

    def release(self) -> None:
        """Give the in-process budget back (idempotent). In a forked child, a parent's pacer only forgets it: the
        parent's registry, and any lock held there at the fork, are not the child's to touch."""
        if not self._released:
            self._released = True
            if self._generation == _fork.generation():
                self._registry.release(self.key, self.rate_limit)

    def settle(self, permit: Permit, sent_at: int | None) -> None:
        """The attempt is over: count its permit from when its request was written (``sent_at``, ms on this
        module's clock), or from now when that is unknown (a transport of the caller's, a failure before writing)."""
        now = now_ms()
        if permit.member is not None and self._fleet is not None:
            self._fleet.restamp(self.key, permit.member, ms_ago=now - (sent_at or now))
        elif permit.taken_at is not None:
            self._local.restamp(permit.taken_at, sent_at or now)

    def _local_take(self) -> tuple[Permit | None, float]:
        taken_at, wait = self._local.take()
        return (None if taken_at is None else Permit(taken_at=taken_at)), wait

    def _take(self, remaining: float | None) -> tuple[Permit | None, float]:
        if self._fleet is not None:
            try:
                member, wait = self._fleet.take(self.key, remaining)
            except FleetUnavailable:
                pass  # paced in-process below (the circuit is open, or Redis just failed and it warned)
            else:
                return (None if member is None else Permit(member=member)), wait
        return self._local_take()

    async def _take_async(self, remaining: float | None) -> tuple[Permit | None, float]:
        if self._fleet is not None:
            try:
                member, wait = await self._fleet.take_async(self.key, remaining)
            except FleetUnavailable:
                pass
            else:
                return (None if member is None else Permit(member=member)), wait
        return self._local_take()

    def acquire(self, deadline_at: float | None, clock: Clock) -> Permit | None:
        """Wait for a permit; None as soon as none can come before the deadline."""
        remaining = _left(deadline_at, clock)
        if remaining is not None and remaining <= 0:
            return None
        if not self._local.gate.acquire(timeout=remaining):
            return None
        try:
            while True:
                remaining = _left(deadline_at, clock)
                permit, wait = self._take(remaining)
                if permit is not None:
                    return permit
                if remaining is not None and wait >= remaining:
                    return None
                time.sleep(wait)
        finally:
            self._local.gate.release()

    async def acquire_async(self, deadline_at: float | None, clock: Clock) -> Permit | None:
        """The asyncio twin of ``acquire``: tasks queue on the loop's gate and sleep with ``asyncio.sleep``, so no
        thread is held and a cancelled wait takes nothing."""
        remaining = _left(deadline_at, clock)
        if remaining is not None and remaining <= 0:
            return None
        gate = self._local.async_gate()
        try:
            async with asyncio.timeout(remaining):
                await gate.acquire()
        except TimeoutError:
            return None
        try:
            while True:
                remaining = _left(deadline_at, clock)
                permit, wait = await self._take_async(remaining)
                if permit is not None:
                    return permit
                if remaining is not None and wait >= remaining:
                    return None
                await asyncio.sleep(wait)
        finally:
            gate.release()
