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
- the first failure opens a circuit for ``FLEET_COOLDOWN`` seconds, and every caller paces in-process at once.
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
from ._constants import FLEET_CALL_TIMEOUT, FLEET_COOLDOWN, FLEET_DEADLINE_SHARE, FLEET_MIN_CALL, LOGGER_NAME
from ._rates import pacing_rates
from ._safety import check_count, check_seconds

logger = logging.getLogger(LOGGER_NAME)
T = TypeVar("T")

# A sliding-window log per key: ARGV = member, longest window (ms), then (window ms, limit) per rate.
# Returns 0 after admitting the member, or the milliseconds until a slot frees (nothing is stored).
_TAKE_SCRIPT = """
redis.replicate_commands()
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local longest = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - longest)
local wait = 0
for i = 3, #ARGV, 2 do
  local window = tonumber(ARGV[i])
  local limit = tonumber(ARGV[i + 1])
  local since = '(' .. (now - window)
  local count = redis.call('ZCOUNT', key, since, '+inf')
  if count >= limit then
    local oldest = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
    local free_in = tonumber(oldest[2]) + window - now
    if free_in > wait then wait = free_in end
  end
end
if wait > 0 then return wait end
redis.call('ZADD', key, now, ARGV[1])
redis.call('PEXPIRE', key, longest)
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


class FleetLimiter:
    """A pacing budget kept in Redis: pass it as ``limiter=`` to every facade of the fleet. Build it with
    ``redis_limiter``. The budget of a facade is ``{prefix}:{rate_limit_key}``, so raw credentials never reach
    Redis."""

    def __init__(
        self, url: str, *, rate_limit: int, prefix: str, timeout: float, redis_options: dict[str, Any]
    ) -> None:
        self.rate_limit = rate_limit
        self.prefix = prefix
        self.timeout = timeout
        self._url = url
        self._redis_options = redis_options
        rates = pacing_rates(rate_limit)
        self._args = [max(rate.interval for rate in rates)] + [n for rate in rates for n in (rate.interval, rate.limit)]
        self._state = threading.Lock()
        self._open_until = 0.0
        self._in_outage = False
        self._redis: Any = None  # redis.asyncio.Redis, used only on the background loop
        self._script: Any = None
        _limiters.add(self)

    def __repr__(self) -> str:
        return f"FleetLimiter(rate_limit={self.rate_limit}, prefix={self.prefix!r}, timeout={self.timeout})"

    def _forget_connections(self) -> None:
        """In a forked child: the parent's sockets and a possibly held lock stay behind."""
        self._state = threading.Lock()
        self._redis = self._script = None

    def usable(self) -> bool:
        """False while the circuit is open after a failure."""
        return time.monotonic() >= self._open_until

    def _trip(self, err: BaseException) -> None:
        with self._state:
            self._open_until = time.monotonic() + FLEET_COOLDOWN
            first = not self._in_outage
            self._in_outage = True
        if first:
            logger.warning(
                "pacing limiter (Redis) failed (%s); pacing in-process, trying Redis again in %.0fs",
                type(err).__name__,
                FLEET_COOLDOWN,
            )

    def _recovered(self) -> None:
        if self._in_outage:
            with self._state:
                self._in_outage = False
            logger.info("pacing limiter (Redis) is back; in-process fallback pacing ends")

    async def _call(self, key: str, member: str) -> float:
        if self._script is None:
            import redis.asyncio

            self._redis = redis.asyncio.Redis.from_url(
                self._url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout, **self._redis_options
            )
            self._script = self._redis.register_script(_TAKE_SCRIPT)
        wait_ms = await self._script(keys=[f"{self.prefix}:{key}"], args=[member, *self._args])
        return int(wait_ms) / 1000

    async def _give_back(self, key: str, member: str) -> None:
        if self._redis is not None:
            await self._redis.zrem(f"{self.prefix}:{key}", member)

    def _bound(self, remaining: float | None) -> tuple[float, bool]:
        """The call's timeout (the limiter's own, or a share of the send's remaining deadline), and whether running
        out of it means Redis is failing (not when a nearly spent deadline left it too little time)."""
        timeout = self.timeout if remaining is None else min(self.timeout, max(0.0, remaining) * FLEET_DEADLINE_SHARE)
        return timeout, timeout >= min(self.timeout, FLEET_MIN_CALL)

    def take(self, key: str, remaining: float | None) -> float:
        """0.0 when a permit was taken; else seconds until one may be free. FleetUnavailable on failure.
        ``remaining`` is what is left of the send's deadline (None: no deadline)."""
        timeout, conclusive = self._bound(remaining)
        future = _background.submit(self._call(key, uuid.uuid4().hex))
        try:
            wait = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError as err:
            future.cancel()
            if conclusive:
                self._trip(err)
            raise FleetUnavailable("no answer in time") from err
        except Exception as err:
            self._trip(err)
            raise FleetUnavailable(type(err).__name__) from err
        self._recovered()
        return wait

    async def take_async(self, key: str, remaining: float | None) -> float:
        """The asyncio twin of ``take``: awaits the background call, holding no thread."""
        timeout, conclusive = self._bound(remaining)
        member = uuid.uuid4().hex
        future = _background.submit(self._call(key, member))
        try:
            async with asyncio.timeout(timeout):
                wait = await asyncio.wrap_future(future)
        except TimeoutError as err:
            if conclusive:
                self._trip(err)
            raise FleetUnavailable("no answer in time") from err
        except asyncio.CancelledError:
            # The send was cancelled: a permit taken in the meantime is given back, so it costs nothing.
            if future.done() and not future.cancelled() and future.exception() is None and future.result() == 0:
                _background.submit(self._give_back(key, member))
            raise
        except Exception as err:
            self._trip(err)
            raise FleetUnavailable(type(err).__name__) from err
        self._recovered()
        return wait


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
    import redis.asyncio  # noqa: F401  (fail here, not on the first send, when the extra is missing)

    return FleetLimiter(
        url,
        rate_limit=check_count("rate_limit", rate_limit, minimum=1),
        prefix=prefix,
        timeout=check_seconds("timeout", timeout),
        redis_options=redis_options,
    )
