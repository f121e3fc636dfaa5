# copied from codegen/overlay/delivery/engine.py by `make regenerate`; edit there, never here.
"""The drainer: async workers that deliver a store's pending events through ``AsyncPeopleEvents``.

One drainer claims batches of due events under a lease, sends them with ``concurrency`` asyncio tasks at
the facade's pace (its ``rate_limit``, or a ``redis_limiter`` shared by a fleet), and records each outcome.
Outcomes are written in small batches; a crash before a write only means a resend with the same eventId,
which the server records once.

Each delivery is one *round*: one ``send`` with the client's own retries (429, 5xx, no response). What the
round ends with decides what happens next (``classify``):

- 201: ``Sent`` with the server's occurredTime.
- 4xx other than 401 and 429: ``Rejected`` (400, 403, 404, 413, ...): final, nothing was stored.
- 401: the drainer halts and the event stays pending; bad credentials must not dead-letter a whole queue.
- 429, 5xx, no response, or a malformed 201: ``Retry`` after a growing delay, with the same eventId; after
  ``RoundPolicy.max_rounds`` rounds it is ``Rejected`` with the last status (None: no response).
- ValueError from the client (the event fails local checks): ``Invalid``, never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import AsyncPeopleEvents
from ..exceptions import PeopleEventsError, RateLimited, ServerError, TransportError, Unauthorized
from .events import Claimed, Invalid, Outcome, Rejected, Retry, Sent
from .store import Store

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RoundPolicy:
    """How often and how long an event that keeps failing transiently is retried before it is rejected.

    Round ``n`` (0-based) is followed by a wait of ``first_delay * 2**n`` seconds, capped at ``max_delay``
    (at least the server's Retry-After). Each round is itself up to ``max_retries + 1`` client attempts.
    """

    max_rounds: int = 5
    first_delay: float = 2.0
    max_delay: float = 60.0

    def __post_init__(self) -> None:
        if self.max_rounds < 1:
            raise ValueError("max_rounds must be at least 1")
        if not 0 <= self.first_delay <= self.max_delay:
            raise ValueError("delays must satisfy 0 <= first_delay <= max_delay")

    def delay(self, rounds_done: int) -> float:
        return min(self.max_delay, self.first_delay * 2.0**rounds_done)


@dataclass(frozen=True, slots=True)
class Halt:
    """Stop draining: the server refused the credentials (401). The event stays pending, no round used."""

    reason: str


def classify(error: PeopleEventsError, rounds_done: int, policy: RoundPolicy) -> Outcome | Halt:
    """What one failed round means, by the error's class (and its status for the base class)."""
    status = error.status
    if isinstance(error, Unauthorized):
        return Halt(str(error))
    retryable_class = isinstance(error, RateLimited | ServerError | TransportError)
    transient = retryable_class or status is None or not 400 <= status < 500
    if transient and rounds_done + 1 < policy.max_rounds:
        delay = policy.delay(rounds_done)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return Retry(delay=delay, error=f"{type(error).__name__}: {error}")
    text = error.text
    if transient:
        text = f"{text or error}; still failing after {policy.max_rounds} rounds"
    return Rejected(status=status, message_id=error.message_id, text=text, validation_errors=error.validation_errors)


@dataclass
class DrainStats:
    """What one ``run`` did (this drainer only)."""

    sent: int = 0
    rejected: int = 0
    invalid: int = 0
    retried: int = 0
    halted: str | None = None
    stopped: bool = False
    """True when ``stop()`` or ``abort()`` ended the run before the store was drained."""


OutcomeListener = Callable[[Claimed, Outcome], None]


class Drainer:
    """Delivers pending events from ``store`` through ``people`` until the store is drained or ``stop()``.

    ``concurrency`` sends run at once (the facade paces them); at most ``2 * concurrency`` events are leased at
    a time, each for ``lease_seconds``, renewed every third of that while this drainer lives. Store calls run
    on one thread of the drainer's own, so a busy store never blocks the event loop.

    ``people`` may be several facades for one account (they share its pacing budget); worker ``i`` sends through
    ``people[i % len(people)]``. Why: httpcore's async pool matches every queued request against every pooled
    connection, so one pool of 64 connections cost about 4 times the CPU per send of 8 pools of 8 (measured at
    250/s with 100 ms latency).
    """

    def __init__(
        self,
        store: Store,
        people: AsyncPeopleEvents | Sequence[AsyncPeopleEvents],
        *,
        concurrency: int = 64,
        lease_seconds: float = 60.0,
        rounds: RoundPolicy | None = None,
        flush_interval: float = 0.1,
        poll_interval: float = 0.25,
        on_outcome: OutcomeListener | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.owner = f"drainer-{uuid.uuid4()}"
        self.stats = DrainStats()
        self._store = store
        self._people = [people] if isinstance(people, AsyncPeopleEvents) else list(people)
        if not self._people:
            raise ValueError("give at least one AsyncPeopleEvents")
        self._concurrency = concurrency
        self._capacity = 2 * concurrency
        self._lease = lease_seconds
        self._rounds = rounds or RoundPolicy()
        self._flush_interval = flush_interval
        self._poll = poll_interval
        self._on_outcome = on_outcome
        self._queue: asyncio.Queue[Claimed | None] = asyncio.Queue()
        self._outcomes: list[tuple[int, Outcome]] = []
        self._outstanding = 0
        self._stopping = False
        self._wakeup: asyncio.Event | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._failure: BaseException | None = None
        self._executor: ThreadPoolExecutor | None = None

    def stop(self) -> None:
        """Claim nothing more; sends in flight finish and are recorded; queued events stay pending."""
        self._stopping = True
        self.stats.stopped = True
        if self._wakeup is not None:
            self._wakeup.set()

    def wake(self) -> None:
        """Look for due events now instead of at the next poll (e.g. right after an enqueue). Call it on the
        drainer's event loop (``loop.call_soon_threadsafe(drainer.wake)`` from another thread)."""
        if self._wakeup is not None:
            self._wakeup.set()

    def abort(self) -> None:
        """``stop()``, and cancel the sends in flight: their events stay pending for a later resend."""
        self.stop()
        for worker in self._workers:
            worker.cancel()

    async def run(self, more_coming: Callable[[], bool] = lambda: False) -> DrainStats:
        """Drain until nothing is pending and ``more_coming()`` is false (or until ``stop()``). Re-raises a store
        failure or an unexpected error from a send after recording what was done."""
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="people-events-store")
        self._workers = [
            asyncio.create_task(self._work(self._people[n % len(self._people)])) for n in range(self._concurrency)
        ]
        flusher = asyncio.create_task(self._flush_loop())
        renewer = asyncio.create_task(self._renew_loop())
        try:
            await self._feed(more_coming)
            for _ in self._workers:
                self._queue.put_nowait(None)
            await asyncio.gather(*self._workers, return_exceptions=True)
        finally:
            for task in (flusher, renewer, *self._workers):
                task.cancel()
            await asyncio.gather(flusher, renewer, *self._workers, return_exceptions=True)
            for step in (self._flush, self._release):
                try:
                    await step()
                except Exception as err:  # still try the next step; the first failure is raised
                    self._failure = self._failure or err
            self._executor.shutdown(wait=True)
        if self._failure is not None:
            raise self._failure
        return self.stats

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(function, *args))

    async def _feed(self, more_coming: Callable[[], bool]) -> None:
        assert self._wakeup is not None
        batch = max(1, self._capacity // 4)
        while not self._stopping:
            # Cleared before looking, so that a wake-up that arrives while we look (an enqueue just after the claim's
            # query) ends the wait below at once instead of being cleared with it.
            self._wakeup.clear()
            room = self._capacity - self._outstanding
            if room >= batch:
                claimed = await self._call(self._store.claim, self.owner, room, self._lease)
                if claimed and not self._stopping:
                    self._outstanding += len(claimed)
                    for item in claimed:
                        self._queue.put_nowait(item)
                    continue
            wait = self._poll
            if self._outstanding == 0:
                await self._flush()
                coming = more_coming()  # asked before next_due, so a batch committed meanwhile is seen
                due = await self._call(self._store.next_due)
                if due is None and not coming:
                    return
                if due is not None:
                    wait = min(max(due, 0.005), self._poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), wait)

    async def _work(self, people: AsyncPeopleEvents) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if self._stopping:
                continue  # left pending; its lease is released when the run ends
            try:
                self._finish(item, await self._deliver(people, item))
            except Exception as err:  # a bug, a user hook's or ``on_outcome``'s exception: stop and re-raise later
                # An outcome noted before the failure is still recorded; an event without one stays pending.
                self._failure = self._failure or err
                self.stop()

    async def _deliver(self, people: AsyncPeopleEvents, item: Claimed) -> Outcome | Halt:
        event = item.event
        try:
            response = await people.send(
                event.person_id,
                event.definition_id,
                identifier_type=event.identifier_type,
                properties=event.properties,
                event_id=event.event_id,
                create_person=event.create_person,
            )
        except PeopleEventsError as err:
            return classify(err, item.rounds, self._rounds)
        except ValueError as err:
            return Invalid({"event": [str(err)]})
        if response.event_id != event.event_id:
            foreign = PeopleEventsError(f"HTTP 201 for another eventId ({response.event_id})", status=201)
            return classify(foreign, item.rounds, self._rounds)
        return Sent(occurred_time=response.occurred_time.isoformat())

    def _finish(self, item: Claimed, outcome: Outcome | Halt) -> None:
        assert self._wakeup is not None
        self._outstanding -= 1
        self._wakeup.set()
        if isinstance(outcome, Halt):
            self.stats.halted = self.stats.halted or outcome.reason
            self.stop()
            return
        self._outcomes.append((item.seq, outcome))
        if isinstance(outcome, Sent):
            self.stats.sent += 1
        elif isinstance(outcome, Rejected):
            self.stats.rejected += 1
        elif isinstance(outcome, Invalid):
            self.stats.invalid += 1
        else:
            self.stats.retried += 1
        if self._on_outcome is not None:
            self._on_outcome(item, outcome)

    async def _flush(self) -> None:
        if self._outcomes:
            batch, self._outcomes = self._outcomes, []
            await self._call(self._store.record, self.owner, batch)

    async def _release(self) -> None:
        await self._call(self._store.release, self.owner)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            try:
                await self._flush()
            except Exception as err:  # e.g. a full disk: stop cleanly, the unrecorded events stay pending
                self._failure = self._failure or err
                self.stop()
                return

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                await self._call(self._store.renew, self.owner, self._lease)
            except Exception as err:  # leases would run out under us: stop (another drainer resends, same eventId)
                self._failure = self._failure or err
                self.stop()
                return
