"""Pacing to the account's rate limit with pyrate-limiter v4, before each attempt.

One in-process limiter per (rate_limit_key, rate) is shared by every facade, thread and asyncio
task of the process. ``redis_limiter`` builds a limiter whose budget lives in Redis, shared by
every process and host. When Redis fails, pacing falls back to the in-process limiter and warns
once; the 429 retries remain the backstop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
import weakref
from typing import Any

import httpx
from pyrate_limiter import BucketFactory, Duration, Limiter, Rate, RateItem
from pyrate_limiter.abstracts import AbstractBucket

from ._constants import (
    LOGGER_NAME,
    PACING_BURST_DIVISOR,
    PACING_MARGIN_MS,
    PACING_POLL_INTERVAL,
    PRIMARY_RETRY_AFTER,
)
from ._retry import DEADLINE_EXTENSION, DeadlineExceeded

logger = logging.getLogger(LOGGER_NAME)


def pacing_rates(rate_limit: int) -> list[Rate]:
    """The account's budget per second (plus a margin for network jitter against the server's strict rolling
    window), and a tenth of it per tenth of a second to smooth bursts."""
    burst = max(1, math.ceil(rate_limit / PACING_BURST_DIVISOR))
    per_second = Rate(rate_limit, int(Duration.SECOND) + PACING_MARGIN_MS)
    if burst >= rate_limit:
        return [per_second]
    return [Rate(burst, int(Duration.SECOND) // PACING_BURST_DIVISOR), per_second]


class GatedLimiter:
    """A pyrate-limiter ``Limiter`` that callers enter one at a time, polling for a free permit.

    Why not pyrate-limiter's own blocking wait: it lets every waiting thread sleep and race when a slot
    frees (with 32 threads that wasted a quarter of the budget), and it stamps the permit with the planned
    wake-up time rather than the actual one, so a thread that oversleeps on a busy machine records its
    request too early and a later one squeezes into a real second that is already full. Here a single
    caller at a time asks for a permit without blocking, and sleeps ``PACING_POLL_INTERVAL`` between asks.
    """

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter
        self._gate = threading.Lock()
        self._async_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._async_gates_lock = threading.Lock()

    def acquire(self, key: str, timeout: float | None) -> bool:
        """Wait for a permit for at most ``timeout`` seconds (None: no limit); False when none came in time."""
        if timeout is not None and timeout <= 0:
            return False
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._gate.acquire(timeout=-1 if timeout is None else timeout):
            return False
        try:
            while not self.limiter.try_acquire(key, blocking=False):
                if deadline is not None and time.monotonic() + PACING_POLL_INTERVAL > deadline:
                    return False
                time.sleep(PACING_POLL_INTERVAL)
            return True
        finally:
            self._gate.release()

    def _async_gate(self) -> asyncio.Lock:
        """This event loop's gate (an asyncio.Lock belongs to one loop)."""
        loop = asyncio.get_running_loop()
        with self._async_gates_lock:
            gate = self._async_gates.get(loop)
            if gate is None:
                gate = self._async_gates[loop] = asyncio.Lock()
            return gate

    async def acquire_async(self, key: str, timeout: float | None) -> bool:
        """The asyncio twin of ``acquire``: tasks queue on a per-loop gate, so one task polls at a time."""
        if timeout is not None and timeout <= 0:
            return False
        deadline = None if timeout is None else time.monotonic() + timeout
        gate = self._async_gate()
        try:
            await asyncio.wait_for(gate.acquire(), timeout)
        except TimeoutError:
            return False
        try:
            while not await self.limiter.try_acquire_async(key, blocking=False):
                if deadline is not None and time.monotonic() + PACING_POLL_INTERVAL > deadline:
                    return False
                await asyncio.sleep(PACING_POLL_INTERVAL)
            return True
        finally:
            gate.release()


_shared_lock = threading.Lock()
_shared: dict[tuple[str, int], GatedLimiter] = {}


def shared_limiter(rate_limit_key: str, rate_limit: int) -> GatedLimiter:
    """The process-wide in-process limiter for this key and rate."""
    with _shared_lock:
        gated = _shared.get((rate_limit_key, rate_limit))
        if gated is None:
            limiter = Limiter(pacing_rates(rate_limit))
            gated = _shared[(rate_limit_key, rate_limit)] = GatedLimiter(limiter)
        return gated


class _RedisBucketFactory(BucketFactory):
    """One Redis bucket per item name (the rate_limit_key), created on first use."""

    def __init__(self, redis: Any, rates: list[Rate], prefix: str) -> None:
        self._redis = redis
        self._rates = rates
        self._prefix = prefix
        self._buckets: dict[str, AbstractBucket] = {}
        self._lock = threading.Lock()

    def wrap_item(self, name: str, weight: int = 1) -> RateItem:
        return RateItem(name, time.time_ns() // 1_000_000, weight=weight)

    def get(self, item: RateItem) -> AbstractBucket:
        from pyrate_limiter import RedisBucket

        with self._lock:
            bucket = self._buckets.get(item.name)
            if bucket is None:
                bucket = RedisBucket.init(self._rates, self._redis, f"{self._prefix}:{item.name}")
                self.schedule_leak(bucket)
                self._buckets[item.name] = bucket
            return bucket


def redis_limiter(redis: Any, *, rate_limit: int, prefix: str = "people_events:pacing") -> Limiter:
    """A limiter whose budget lives in Redis (a sync ``redis.Redis``), shared across processes and hosts.

    Pass it as ``limiter=`` to the facade; the bucket key is ``{prefix}:{rate_limit_key}``, so raw
    credentials never reach Redis.
    """
    return Limiter(_RedisBucketFactory(redis, pacing_rates(rate_limit), prefix))


class Pacer:
    """Acquires one permit per attempt from the chosen limiter, falling back to in-process pacing.

    When the primary limiter (e.g. Redis) fails, pacing falls back to the in-process budget and warns once
    per outage; the primary is tried again after ``PRIMARY_RETRY_AFTER`` seconds.
    """

    def __init__(self, key: str, rate_limit: int, limiter: Limiter | None) -> None:
        self.key = key
        self._fallback = shared_limiter(key, rate_limit)
        self._primary = None if limiter is None else GatedLimiter(limiter)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._in_outage = False

    def _primary_usable(self) -> GatedLimiter | None:
        with self._lock:
            return self._primary if time.monotonic() >= self._down_until else None

    def _on_primary_failure(self, err: Exception) -> None:
        with self._lock:
            self._down_until = time.monotonic() + PRIMARY_RETRY_AFTER
            first = not self._in_outage
            self._in_outage = True
        if first:
            logger.warning("pacing limiter failed (%s); falling back to in-process pacing", type(err).__name__)

    def _on_primary_success(self) -> None:
        if self._in_outage:
            with self._lock:
                self._in_outage = False
            logger.info("pacing limiter is back; in-process fallback pacing ends")

    def acquire(self, timeout: float | None) -> bool:
        primary = self._primary_usable()
        if primary is not None:
            try:
                acquired = primary.acquire(self.key, timeout)
            except Exception as err:  # any backend failure (Redis down, script error) falls back
                self._on_primary_failure(err)
            else:
                self._on_primary_success()
                return acquired
        return self._fallback.acquire(self.key, timeout)

    async def acquire_async(self, timeout: float | None) -> bool:
        primary = self._primary_usable()
        if primary is not None:
            try:
                # A user limiter may block on I/O (sync Redis): keep it off the event loop.
                acquired = await asyncio.to_thread(primary.acquire, self.key, timeout)
            except Exception as err:
                self._on_primary_failure(err)
            else:
                self._on_primary_success()
                return acquired
        return await self._fallback.acquire_async(self.key, timeout)


def _remaining(request: httpx.Request) -> float | None:
    remaining = request.extensions.get(DEADLINE_EXTENSION)
    return None if remaining is None else remaining()


class PacingTransport(httpx.BaseTransport):
    """Waits for a permit, then delegates (as pyrate-limiter's RateLimiterTransport, plus a deadline)."""

    def __init__(self, inner: httpx.BaseTransport, pacer: Pacer) -> None:
        self._inner = inner
        self._pacer = pacer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self._pacer.acquire(_remaining(request)):
            raise DeadlineExceeded("deadline passed while waiting for the rate limit", request=request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class AsyncPacingTransport(httpx.AsyncBaseTransport):
    """The asyncio twin of ``PacingTransport``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, pacer: Pacer) -> None:
        self._inner = inner
        self._pacer = pacer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not await self._pacer.acquire_async(_remaining(request)):
            raise DeadlineExceeded("deadline passed while waiting for the rate limit", request=request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
