"""Retrying transports: 429 always; 5xx, connection errors and timeouts when the request carries an eventId
(every facade send does), so a resend cannot record the event twice.

Why hand-written: httpx-retries and stamina both sleep through ``time.sleep``/``asyncio.sleep``
with no injection point, and neither bounds the retries and the pacing waits under one total
deadline. The loop below is small and runs on pure, table-tested functions (``should_retry``,
``retry_delay``), so tests inject the clock and the sleep and never wait.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable

import attrs
import httpx

from ._constants import DEFAULT_MAX_RETRIES, INITIAL_RETRY_DELAY, LOGGER_NAME, MAX_RETRY_AFTER, MAX_RETRY_DELAY
from ._retry_after import parse_retry_after

logger = logging.getLogger(LOGGER_NAME)

DEADLINE_EXTENSION = "people_events_remaining"
"""Request extension: a callable giving the seconds left before the deadline (None: no deadline), so that
pacing waits end by the same deadline as retries."""


class DeadlineExceeded(httpx.TimeoutException):
    """The total deadline ran out before a usable response."""


def should_retry(status: int | None, *, idempotent: bool = True) -> bool:
    """True for an outcome worth another attempt; ``None`` means no response (connection error, timeout).

    A 429 was refused before anything was stored, so it is always safe to resend. A 5xx or a lost response
    may follow a stored event, so it is resent only when the request is ``idempotent`` (carries an eventId).
    """
    if status == 429:
        return True
    return idempotent and (status is None or status >= 500)


_LEADING_EVENT_ID = re.compile(rb'\{\s*"eventId"\s*:\s*"[^"\\]+"')
"""The facade's bodies start with the eventId; matching that spares a JSON parse on every send."""


def carries_event_id(request: httpx.Request) -> bool:
    """Whether the JSON body has an eventId, which makes a resend record the event at most once."""
    if _LEADING_EVENT_ID.match(request.content):
        return True
    try:
        body = json.loads(request.content) if request.content else None
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("eventId"), str) and bool(body["eventId"])


def _blank(response: httpx.Response) -> httpx.Response:
    """The same status and headers with an empty body, for a body that cannot be decoded."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    return httpx.Response(response.status_code, headers=headers, content=b"")


def read_or_blank(response: httpx.Response) -> httpx.Response:
    """The response with its body read; one whose body cannot be decoded (e.g. a proxy page labelled gzip)
    becomes the same status and headers with an empty body, so that it is classified by its status."""
    try:
        response.read()
    except httpx.DecodingError:
        response.close()
        return _blank(response)
    return response


async def aread_or_blank(response: httpx.Response) -> httpx.Response:
    """The asyncio twin of ``read_or_blank``."""
    try:
        await response.aread()
    except httpx.DecodingError:
        await response.aclose()
        return _blank(response)
    return response


@attrs.frozen
class RetryPolicy:
    """How often and how long to retry. All times are in seconds."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    max_retry_after: float = MAX_RETRY_AFTER
    deadline: float | None = None
    """Total budget for a send, pacing waits and retries together; None for none."""


def retry_delay(policy: RetryPolicy, retry_number: int, retry_after: float | None, jitter: float) -> float:
    """Seconds before retry ``retry_number`` (1-based): the server's Retry-After (capped) or capped exponential
    backoff scaled by ``jitter`` in [0.75, 1]."""
    if retry_after is not None:
        return min(retry_after, policy.max_retry_after)
    backoff = min(policy.initial_delay * 2.0 ** (retry_number - 1), policy.max_delay)
    return backoff * jitter


def _jitter() -> float:
    return 1.0 - 0.25 * random.random()


def _describe(outcome: httpx.Response | Exception) -> str:
    return str(outcome.status_code) if isinstance(outcome, httpx.Response) else type(outcome).__name__


class _RetryLoop:
    """The bookkeeping shared by the sync and async transports: what to do after each attempt."""

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float], request: httpx.Request) -> None:
        self.policy = policy
        self.clock = clock
        self.deadline = None if policy.deadline is None else clock() + policy.deadline
        request.extensions[DEADLINE_EXTENSION] = self.remaining
        self.idempotent = carries_event_id(request)
        # The client's configured timeouts, capped per attempt only when there is a deadline.
        self.timeouts = {} if self.deadline is None else dict(request.extensions.get("timeout") or {})
        self.attempt = 0

    def start_attempt(self, request: httpx.Request) -> None:
        """Count the attempt, and cap its timeouts at the time left, so the deadline bounds it too."""
        self.attempt += 1
        remaining = self.remaining()
        if remaining is not None:
            request.extensions["timeout"] = {
                name: max(0.001, remaining) if value is None else max(0.001, min(value, remaining))
                for name, value in self.timeouts.items()
            }

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def next_wait(self, outcome: httpx.Response | Exception) -> float | None:
        """Seconds to wait before the next attempt, or None to stop here with ``outcome``."""
        status = outcome.status_code if isinstance(outcome, httpx.Response) else None
        if logger.isEnabledFor(logging.DEBUG):  # every send passes here: skip formatting when DEBUG is off
            logger.debug("attempt %d/%d -> %s", self.attempt, self.policy.max_retries + 1, _describe(outcome))
        if isinstance(outcome, DeadlineExceeded | httpx.LocalProtocolError) or not should_retry(
            status, idempotent=self.idempotent
        ):
            # A LocalProtocolError means this client could not put the request on the wire (e.g. an illegal
            # header value): the same bytes would fail the same way on every attempt.
            return None
        if self.attempt > self.policy.max_retries:
            return None
        retry_after = None
        if isinstance(outcome, httpx.Response):
            retry_after = parse_retry_after(outcome.headers.get("retry-after"))
        wait = retry_delay(self.policy, self.attempt, retry_after, _jitter())
        if self.deadline is not None and self.clock() + wait >= self.deadline:
            logger.debug("giving up: the next wait of %.3fs would pass the deadline", wait)
            return None
        return wait


class RetryTransport(httpx.BaseTransport):
    """Resends the same request (same eventId) while ``should_retry`` says so, within the policy."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._policy = policy
        self._sleep = sleep
        self._clock = clock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        loop = _RetryLoop(self._policy, self._clock, request)
        while True:
            loop.start_attempt(request)
            outcome: httpx.Response | Exception
            try:
                outcome = read_or_blank(self._inner.handle_request(request))
            except httpx.TransportError as err:
                outcome = err
            wait = loop.next_wait(outcome)
            if wait is None:
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome
            if isinstance(outcome, httpx.Response):
                outcome.close()
            self._sleep(wait)

    def close(self) -> None:
        self._inner.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """The asyncio twin of ``RetryTransport``."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._policy = policy
        self._sleep = sleep
        self._clock = clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loop = _RetryLoop(self._policy, self._clock, request)
        while True:
            loop.start_attempt(request)
            outcome: httpx.Response | Exception
            try:
                outcome = await aread_or_blank(await self._inner.handle_async_request(request))
            except httpx.TransportError as err:
                outcome = err
            wait = loop.next_wait(outcome)
            if wait is None:
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome
            if isinstance(outcome, httpx.Response):
                await outcome.aclose()
            await self._sleep(wait)

    async def aclose(self) -> None:
        await self._inner.aclose()
