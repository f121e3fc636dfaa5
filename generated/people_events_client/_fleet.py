# copied from codegen/overlay/_fleet.py by `make regenerate`; edit there, never here.
"""Fleet-wide pacing: one budget in Redis, shared by every process and host that uses it (``redis_limiter``).

Why our own script rather than pyrate-limiter's ``RedisBucket``: that bucket needs a background leaker (a thread,
or a task tied to one event loop), keeps each verdict on the shared bucket object (racy across threads), sets no
expiry on its key, and does not reload its script after a Redis restart. The script below trims, counts, admits
and sets an expiry in one atomic call, on Redis's own clock (``TIME``), so hosts with skewed clocks share one
window; redis-py's ``register_script`` reloads it after a restart.

Every Redis call runs on one background event loop per process (``redis.asyncio``), so that:

- a sync caller waits on a future with a timeout: a hung Redis costs it at most that bound, never a socket's
  own timeout, and never blocks other callers;
- an async caller awaits the same future: no executor thread is held, and a cancelled wait gives back a permit
  that arrived too late to be used;
- the first failure opens a circuit for ``FLEET_COOLDOWN`` seconds: every caller paces in-process at once, those
  already waiting on Redis included; afterwards a single caller probes Redis before the others come back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Coroutine
from typing import Any, TypeVar

from . import _fork
from ._constants import (
    FLEET_CALL_TIMEOUT,
    FLEET_COOLDOWN,
    FLEET_DEADLINE_SHARE,
    FLEET_INCONCLUSIVE_TRIPS,
    FLEET_MIN_CALL,
    FLEET_POLL_INTERVAL,
    LOGGER_NAME,
)
from ._rates import pacing_for
from ._safety import check_count, check_seconds

logger = logging.getLogger(LOGGER_NAME)
T = TypeVar("T")

# The two rules of ``_rates``: KEYS[1] is the second's sorted set (permit times by member), KEYS[2] the spacing
# schedule's next permit time. ARGV: member, second (ms), rate limit, spacing (ms), how early (ms). Returns 0 after
# admitting the member, or the milliseconds until both rules allow one (nothing is stored).
_TAKE_SCRIPT = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local second, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local spacing, early = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - second)
local scheduled = tonumber(redis.call('GET', KEYS[2]) or '0')
local wait = scheduled - early - now
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  local free_in = tonumber(oldest[2]) + second - now
  if free_in > wait then wait = free_in end
end
if wait > 0 then return math.ceil(wait) end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], second)
redis.call('SET', KEYS[2], tostring(math.max(scheduled, now) + spacing), 'PX', second)
return 0
"""

# Counts an admitted member (ARGV[1]) of the second (KEYS[1]) from ARGV[2] ms before now (when its request was
# written); a member already trimmed stays out.
_RESTAMP_SCRIPT = """
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now - tonumber(ARGV[2]), ARGV[1])
return 0
"""


class FleetUnavailable(Exception):
    """The shared limiter failed or did not answer in time; the caller paces in-process instead."""


class _BackgroundLoop:
    """One event loop on a daemon thread, started on first use, where every Redis call of this process runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="people-events-pacing", daemon=True).start()
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(coroutine, loop)


_background = _BackgroundLoop()
_limiters: weakref.WeakSet[FleetLimiter] = weakref.WeakSet()


def _reset_in_child() -> None:
    global _background  # noqa: PLW0603  (the reset is a rebinding: the child never touches the parent's objects)
    _background = _BackgroundLoop()  # the parent's loop thread does not exist here
    for limiter in list(_limiters):
        limiter._forget_connections()


_fork.reset_in_child(_reset_in_child)


class _Circuit:
    """Whether callers may use Redis. Closed: all may. Open, after a failure: none may until the cooldown ends. Then
    one caller probes; its success closes the circuit, its failure opens it again. Warns once per outage."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until: float | None = None  # None: closed
        self._probing = False
        self._inconclusive = 0
        self.trips = 0
        """How often it has opened: a caller waiting on Redis stops when this changes."""

    @property
    def closed(self) -> bool:
        return self._open_until is None

    def admit(self) -> bool:
        """Whether this caller may call Redis now (in the half-open state, only the one probing caller may)."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._probing or time.monotonic() < self._open_until:
                return False
            self._probing = True
            return True

    def succeeded(self) -> None:
        with self._lock:
            recovered = self._open_until is not None
            self._open_until, self._probing, self._inconclusive = None, False, 0
        if recovered:
            logger.info("pacing limiter (Redis) is back; in-process fallback pacing ends")

    def failed(self, err: BaseException) -> None:
        with self._lock:
            first = self._open_until is None
            self._open_until = time.monotonic() + FLEET_COOLDOWN
            self._probing, self._inconclusive = False, 0
            self.trips += 1
        if first:
            logger.warning(
                "pacing limiter (Redis) failed (%s); pacing in-process, trying Redis again in %gs",
                type(err).__name__,
                FLEET_COOLDOWN,
            )

    def unanswered(self, err: BaseException) -> None:
        """A call too short to count alone went unanswered: several in a row count as a failure."""
        with self._lock:
            self._probing = False
            self._inconclusive += 1
            tripped = self._inconclusive >= FLEET_INCONCLUSIVE_TRIPS
        if tripped:
            self.failed(err)


class FleetLimiter:
    """A pacing budget kept in Redis: pass it as ``limiter=`` to every facade of the fleet. Build it with
    ``redis_limiter``. A facade's budget is the keys ``{<prefix>:<rate_limit_key>}:second`` and ``...:schedule``,
    so raw credentials never reach Redis."""

    def __init__(
        self, url: str, *, rate_limit: int, prefix: str, timeout: float, redis_options: dict[str, Any]
    ) -> None:
        self.rate_limit = rate_limit
        self.prefix = prefix
        self.timeout = timeout
        self._url = url
        self._redis_options = redis_options
        pacing = pacing_for(rate_limit)
        self._args = [pacing.second_ms, pacing.rate_limit, pacing.spacing_ms, pacing.early_ms]
        self._circuit = _Circuit()
        self._redis: Any = None  # redis.asyncio.Redis, used only on the background loop
        self._scripts: tuple[Any, Any] | None = None  # (take, restamp)
        _limiters.add(self)

    def __repr__(self) -> str:
        return f"FleetLimiter(rate_limit={self.rate_limit}, prefix={self.prefix!r}, timeout={self.timeout})"

    def _forget_connections(self) -> None:
        """In a forked child: the parent's sockets and a possibly held lock stay behind."""
        self._circuit = _Circuit()
        self._redis = self._scripts = None

    def usable(self) -> bool:
        """False while the circuit is open after a failure (or half-open, waiting for its probe)."""
        return self._circuit.closed

    def _keys(self, key: str) -> list[str]:
        """The budget's keys: the second's sorted set and the spacing schedule, under one hash tag, so that Redis
        Cluster keeps them in one slot (a script may touch only one slot)."""
        tag = f"{{{self.prefix}:{key}}}"
        return [f"{tag}:second", f"{tag}:schedule"]

    def _connected(self) -> tuple[Any, Any]:
        """The scripts on this process's connection (made on first use, on the background loop)."""
        if self._scripts is None:
            import redis.asyncio

            self._redis = redis.asyncio.Redis.from_url(
                self._url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout, **self._redis_options
            )
            self._scripts = (self._redis.register_script(_TAKE_SCRIPT), self._redis.register_script(_RESTAMP_SCRIPT))
        return self._scripts

    async def _call(self, key: str, member: str) -> float:
        take, _ = self._connected()
        wait_ms = await take(keys=self._keys(key), args=[member, *self._args])
        return int(wait_ms) / 1000

    async def _restamp(self, key: str, member: str, ms_ago: int) -> None:
        _, restamp = self._connected()
        await restamp(keys=self._keys(key)[:1], args=[member, max(0, ms_ago)])

    async def _give_back(self, key: str, member: str) -> None:
        if self._redis is not None:
            await self._redis.zrem(self._keys(key)[0], member)

    def restamp(self, key: str, member: str, *, ms_ago: int) -> None:
        """Count the member's permit in the account's second from ``ms_ago`` before now (when its request was
        written); in the background, without waiting."""
        if self.usable():
            future = _background.submit(self._restamp(key, member, ms_ago))
            future.add_done_callback(_ignore_failure)  # a lost restamp only makes this permit count a bit early

    def _bound(self, remaining: float | None) -> tuple[float, bool]:
        """The call's timeout (the limiter's own, or a share of the send's remaining deadline), and whether running
        out of it means Redis is failing (not when a nearly spent deadline left it too little time)."""
        timeout = self.timeout if remaining is None else min(self.timeout, max(0.0, remaining) * FLEET_DEADLINE_SHARE)
        return timeout, timeout >= min(self.timeout, FLEET_MIN_CALL)

    def _admitted(self, remaining: float | None) -> tuple[float, bool, int]:
        if not self._circuit.admit():
            raise FleetUnavailable("the circuit is open")
        return (*self._bound(remaining), self._circuit.trips)

    def _settle(self, failure: BaseException | None, conclusive: bool) -> None:
        if failure is None:
            self._circuit.succeeded()
        elif conclusive:
            self._circuit.failed(failure)
        else:
            self._circuit.unanswered(failure)

    def take(self, key: str, remaining: float | None) -> tuple[str | None, float]:
        """(the permit's member, 0.0) when a permit was taken; else (None, seconds until one may be free).
        FleetUnavailable on failure, or when another caller finds Redis failing meanwhile. ``remaining`` is what is
        left of the send's deadline (None: no deadline)."""
        timeout, conclusive, trips = self._admitted(remaining)
        member = uuid.uuid4().hex
        future = _background.submit(self._call(key, member))
        give_up_at = time.monotonic() + timeout
        # Waits in short slices, so that a circuit opened by another caller releases this one at once.
        while not future.done() and time.monotonic() < give_up_at and self._circuit.trips == trips:
            concurrent.futures.wait([future], min(FLEET_POLL_INTERVAL, max(0.0, give_up_at - time.monotonic())))
        return self._outcome(future, member, conclusive, trips)

    async def take_async(self, key: str, remaining: float | None) -> tuple[str | None, float]:
        """The asyncio twin of ``take``: awaits the background call, holding no thread."""
        timeout, conclusive, trips = self._admitted(remaining)
        member = uuid.uuid4().hex
        future = _background.submit(self._call(key, member))
        waiting = asyncio.wrap_future(future)
        give_up_at = time.monotonic() + timeout
        try:
            while not waiting.done() and time.monotonic() < give_up_at and self._circuit.trips == trips:
                await asyncio.wait([waiting], timeout=min(FLEET_POLL_INTERVAL, give_up_at - time.monotonic()))
        except asyncio.CancelledError:
            # The send was cancelled: a permit taken in the meantime is given back, so it costs nothing.
            future.cancel()
            if future.done() and not future.cancelled() and future.exception() is None and future.result() == 0:
                _background.submit(self._give_back(key, member))
            raise
        return self._outcome(future, member, conclusive, trips)

    def _outcome(
        self, future: concurrent.futures.Future[float], member: str, conclusive: bool, trips: int
    ) -> tuple[str | None, float]:
        if not future.done():
            future.cancel()
            if self._circuit.trips != trips:
                raise FleetUnavailable("another caller found Redis failing")
            timed_out = TimeoutError("no answer in time")
            self._settle(timed_out, conclusive)
            raise FleetUnavailable("no answer in time") from timed_out
        failure = None if future.cancelled() else future.exception()
        if failure is not None:
            self._settle(failure, True)
            raise FleetUnavailable(type(failure).__name__) from failure
        self._settle(None, True)
        wait = future.result()
        return (member, 0.0) if wait == 0 else (None, wait)


def _ignore_failure(future: concurrent.futures.Future[None]) -> None:
    if not future.cancelled():
        future.exception()  # retrieved, so that asyncio does not log it as never retrieved


def redis_limiter(
    url: str,
    *,
    rate_limit: int,
    prefix: str = "people_events:pacing",
    timeout: float = FLEET_CALL_TIMEOUT,
    **redis_options: Any,
) -> FleetLimiter:
    """A pacing budget in Redis, shared by every process and host that paces with it (install the ``redis`` extra).

    ``url`` is a Redis URL (``redis://host:6379/0``, ``rediss://`` for TLS); ``redis_options`` go to
    ``redis.asyncio.Redis.from_url`` (e.g. ``password``, ``ssl_ca_certs``). ``timeout`` bounds every Redis call
    (seconds; a send's deadline shortens it). On a failure or a timeout, every facade using this limiter paces
    in-process for 30 s, warns once, and then tries Redis again.
    """
    from redis.connection import parse_url  # here, not on the first send, when the redis extra is missing

    try:
        parse_url(url)  # type: ignore[no-untyped-call]
    except (TypeError, ValueError) as err:
        raise ValueError(f"url is not a Redis URL: {err}") from None
    return FleetLimiter(
        url,
        rate_limit=check_count("rate_limit", rate_limit, minimum=1),
        prefix=prefix,
        timeout=check_seconds("timeout", timeout),
        redis_options=redis_options,
    )
