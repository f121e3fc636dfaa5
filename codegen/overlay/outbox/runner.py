"""The outbox's drain loop: a ``Drainer`` kept running over a store, as a background thread or task of an
application (``Outbox.start``) or as a worker process (``people-events drain``).

Around the engine's ``Drainer`` it adds what a long-lived drainer needs:

- it waits for new events instead of ending when the queue is empty (a local enqueue wakes it at once);
- it starts again after a failure (the database restarting, a full disk), after a growing pause, logging why;
- a 401 halts sending (the events stay pending) and sending is tried again after ``HALT_PAUSE_SECONDS``, since a
  key may be fixed or rotated without a restart;
- sent events older than the retention are pruned every ``PRUNE_INTERVAL_SECONDS``.

Stopping is clean: sends in flight finish and are recorded, events claimed but not sent are given back at once.
``abort`` cancels the sends in flight too; their events stay pending and are resent with the same eventId.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from .. import AsyncPeopleEvents
from ..delivery import Drainer, OutboxStore, RoundPolicy

logger = logging.getLogger("people_events_client.outbox")

PRUNE_INTERVAL_SECONDS = 60.0
HALT_PAUSE_SECONDS = 60.0
RESTART_PAUSES = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Pauses before restarting after consecutive failures (the last one repeats)."""


@dataclass(frozen=True, slots=True)
class DrainOptions:
    """How a drain loop drains: ``concurrency`` sends at once, ``lease_seconds`` per claim, the engine's rounds,
    and sent events kept ``retention`` seconds (None: forever)."""

    concurrency: int = 32
    lease_seconds: float = 60.0
    rounds: RoundPolicy = field(default_factory=RoundPolicy)
    retention: float | None = 7 * 24 * 3600.0

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not self.lease_seconds > 0:
            raise ValueError("lease_seconds must be positive")
        if self.retention is not None and not self.retention >= 0:
            raise ValueError("retention must be None or a number of seconds >= 0")


@dataclass
class DrainTotals:
    """What a drain loop did since it started."""

    sent: int = 0
    rejected: int = 0
    invalid: int = 0
    retried: int = 0
    restarts: int = 0
    halted: str | None = None
    """Why sending is halted now (the server refused the credentials), or None."""
    last_error: str | None = None


class DrainLoop:
    """Drains ``store`` through ``people`` until ``stop()``; with ``until_empty``, until nothing is pending.

    Every method but ``run`` must be called on the loop's own event loop (``call_soon_threadsafe`` from elsewhere).
    """

    def __init__(
        self,
        store: OutboxStore,
        people: Sequence[AsyncPeopleEvents],
        options: DrainOptions,
        *,
        until_empty: bool = False,
    ) -> None:
        self.totals = DrainTotals()
        self._store = store
        self._people = list(people)
        self._options = options
        self._until_empty = until_empty
        self._stopping = False
        self._drainer: Drainer | None = None
        self._pause: asyncio.Event | None = None

    async def run(self) -> DrainTotals:
        """Drain until stopped. With ``until_empty``, return once nothing is pending, and raise the first failure
        or return on a halt instead of pausing (a worker process reports them through its exit code)."""
        self._pause = asyncio.Event()
        pruner = asyncio.create_task(self._prune_loop())
        failures = 0
        try:
            while not self._stopping:
                self._drainer = Drainer(
                    self._store,
                    self._people,
                    concurrency=self._options.concurrency,
                    lease_seconds=self._options.lease_seconds,
                    rounds=self._options.rounds,
                )
                try:
                    stats = await self._drainer.run(more_coming=lambda: not (self._stopping or self._until_empty))
                except Exception as err:
                    self._count(self._drainer)
                    self.totals.last_error = f"{type(err).__name__}: {err}"
                    if self._until_empty:
                        raise
                    pause = RESTART_PAUSES[min(failures, len(RESTART_PAUSES) - 1)]
                    failures += 1
                    self.totals.restarts += 1
                    logger.warning(
                        "outbox drainer failed (%s); starting again in %.0f s", self.totals.last_error, pause
                    )
                    await self._sleep(pause)
                    continue
                failures = 0
                self._count(self._drainer)
                self.totals.halted = stats.halted
                if stats.halted is None:
                    if self._until_empty:
                        return self.totals
                    continue  # stopped
                logger.error(
                    "the server refused the outbox's credentials (%s); events stay pending, trying again in %.0f s",
                    stats.halted,
                    HALT_PAUSE_SECONDS,
                )
                if self._until_empty:
                    return self.totals
                await self._sleep(HALT_PAUSE_SECONDS)
            return self.totals
        finally:
            pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pruner

    def _count(self, drainer: Drainer) -> None:
        stats = drainer.stats
        self.totals.sent += stats.sent
        self.totals.rejected += stats.rejected
        self.totals.invalid += stats.invalid
        self.totals.retried += stats.retried

    def stop(self) -> None:
        """Claim nothing more: sends in flight finish and are recorded, the rest stays pending."""
        self._stopping = True
        if self._drainer is not None:
            self._drainer.stop()
        if self._pause is not None:
            self._pause.set()

    def abort(self) -> None:
        """``stop()``, and cancel the sends in flight (their events stay pending, resent later with their eventId)."""
        self.stop()
        if self._drainer is not None:
            self._drainer.abort()

    def wake(self) -> None:
        """An event was enqueued: look for it now rather than at the next poll."""
        if self._drainer is not None:
            self._drainer.wake()

    async def _sleep(self, seconds: float) -> None:
        assert self._pause is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._pause.wait(), seconds)

    async def _prune_loop(self) -> None:
        retention = self._options.retention
        if retention is None:
            return
        while True:
            try:
                pruned = await asyncio.to_thread(self._store.prune, retention)
            except Exception as err:  # pruning is housekeeping: log it, never stop delivery for it
                logger.warning("pruning sent outbox events failed: %s: %s", type(err).__name__, err)
            else:
                if pruned:
                    logger.debug("pruned %d sent outbox events older than %.0f s", pruned, retention)
            await asyncio.sleep(PRUNE_INTERVAL_SECONDS)
