"""Retry policy as pure, table-tested functions: what is worth another attempt, and how long to wait first.

Every facade send carries an eventId that stays the same on every attempt, and Infobip records an eventId once,
so a 5xx or a lost response is as safe to resend as a 429 (which is refused before anything is stored).

Why hand-written rather than httpx-retries or stamina: both sleep through ``time.sleep``/``asyncio.sleep`` with no
injection point, and neither bounds retries and pacing waits under one total deadline. The send loop
(``_sending``) runs on these functions, so tests inject the clock and the sleep and never wait.
"""

from __future__ import annotations

import random

import attrs
import httpx

from ._constants import DEFAULT_MAX_RETRIES, INITIAL_RETRY_DELAY, MAX_RETRY_AFTER, MAX_RETRY_DELAY

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
"""Transport failures that happen before any byte of the request can reach the server."""
_DETERMINISTIC = (httpx.LocalProtocolError, httpx.UnsupportedProtocol)
"""Failures of this client to put the request on the wire: the same bytes would fail the same way every time."""


@attrs.frozen
class RetryPolicy:
    """How often and how long to retry. All times are in seconds."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    max_retry_after: float = MAX_RETRY_AFTER
    deadline: float | None = None
    """Total budget for a send: pacing waits, attempts and the waits between them; None for none."""


def should_retry(outcome: httpx.Response | httpx.TransportError) -> bool:
    """True for an outcome worth another attempt: a 429, any 5xx, or a lost response."""
    if isinstance(outcome, httpx.Response):
        return outcome.status_code == 429 or outcome.status_code >= 500
    return not isinstance(outcome, _DETERMINISTIC)


def may_have_stored(outcome: httpx.Response | httpx.TransportError) -> bool:
    """Whether this attempt may have recorded the event: a 5xx (e.g. stored, then failed), or a response lost
    after the request may have reached the server. A 4xx (429 included) stores nothing."""
    if isinstance(outcome, httpx.Response):
        return outcome.status_code >= 500 or 200 <= outcome.status_code < 300
    return not isinstance(outcome, _NEVER_SENT + _DETERMINISTIC)


def retry_delay(policy: RetryPolicy, retry_number: int, retry_after: float | None, jitter: float) -> float:
    """Seconds before retry ``retry_number`` (1-based): the server's Retry-After (capped) when it gave a usable
    one, else capped exponential backoff scaled by ``jitter`` in [0.75, 1]."""
    if retry_after is not None:
        return min(retry_after, policy.max_retry_after)
    backoff = min(policy.initial_delay * 2.0 ** (retry_number - 1), policy.max_delay)
    return backoff * jitter


def jitter() -> float:
    """A random factor in [0.75, 1] for backoff, so senders that failed together do not retry together."""
    return 1.0 - 0.25 * random.random()
