"""Pacing to the account's rate limit with pyrate-limiter v4, before each attempt.

One in-process limiter per (rate_limit_key, rate) is shared by every facade, thread and asyncio
task of the process. ``redis_limiter`` builds a limiter whose budget lives in Redis, shared by
every process and host. When Redis fails, pacing falls back to the in-process limiter and warns
once; the 429 retries remain the backstop.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

import httpx
from pyrate_limiter import BucketFactory, Duration, Limiter, Rate, RateItem
from pyrate_limiter.abstracts import AbstractBucket

from ._constants import LOGGER_NAME, PACING_BUFFER_MS, PACING_BURST_DIVISOR, PACING_MARGIN_MS
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
    """A pyrate-limiter ``Limiter`` that threads enter one at a time.

    pyrate-limiter's blocking acquire lets every waiting thread sleep and race when a slot frees;
    with 32 threads that wasted a quarter of the budget (scripts/bench_client.py). Queueing the
    threads on one lock leaves a single waiter inside the limiter. The asyncio path needs no gate:
    pyrate-limiter already serialises it per event loop.
    """

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter
        self._gate = threading.Lock()

    def acquire(self, key: str, timeout: float | None) -> bool:
        started = time.monotonic()
        if not self._gate.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            return False
        try:
            remaining = -1 if timeout is None else max(0.0, timeout - (time.monotonic() - started))
            return bool(self.limiter.try_acquire(key, blocking=True, timeout=remaining))
        finally:
            self._gate.release()

    async def acquire_async(self, key: str, timeout: float | None) -> bool:
        return await self.limiter.try_acquire_async(key, blocking=True, timeout=-1 if timeout is None else timeout)


_shared_lock = threading.Lock()
_shared: dict[tuple[str, int], GatedLimiter] = {}


def shared_limiter(rate_limit_key: str, rate_limit: int) -> GatedLimiter:
    """The process-wide in-process limiter for this key and rate."""
    with _shared_lock:
        gated = _shared.get((rate_limit_key, rate_limit))
        if gated is None:
            limiter = Limiter(pacing_rates(rate_limit), buffer_ms=PACING_BUFFER_MS)
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
    return Limiter(_RedisBucketFactory(redis, pacing_rates(rate_limit), prefix), buffer_ms=PACING_BUFFER_MS)


class Pacer:
    """Acquires one permit per attempt from the chosen limiter, falling back to in-process pacing."""

    def __init__(self, key: str, rate_limit: int, limiter: Limiter | None) -> None:
        self.key = key
        self._fallback = shared_limiter(key, rate_limit)
        self._primary = None if limiter is None else GatedLimiter(limiter)
        self._warned = False

    def _on_primary_failure(self, err: Exception) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("pacing limiter failed (%s); falling back to in-process pacing", type(err).__name__)
        self._primary = None

    def acquire(self, timeout: float | None) -> bool:
        if self._primary is not None:
            try:
                return self._primary.acquire(self.key, timeout)
            except Exception as err:  # any backend failure (Redis down, script error) falls back
                self._on_primary_failure(err)
        return self._fallback.acquire(self.key, timeout)

    async def acquire_async(self, timeout: float | None) -> bool:
        if self._primary is not None:
            try:
                return await self._primary.acquire_async(self.key, timeout)
            except Exception as err:
                self._on_primary_failure(err)
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
