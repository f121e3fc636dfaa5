"""The rate-limit probe: proves a target's documented limit (x-throttling-info: 250 requests per rolling second per
account) with requests that cannot store anything, on every target, live included.

Every request of the probe is a Send Event for a person that cannot exist (a fresh random id of a documented
identifier type, without createPerson), so a correct server answers 404, or 429 once over the limit. It sends a
burst from `concurrency` workers, at most ``2 x limit + 50`` requests within `BURST_SECONDS`, and stops at the
first 429. Then it waits the 429's Retry-After and sends one more request, which must not be a 429, and waits
one more second so that the account's window is empty again for whatever runs next.

What it proves, by the client's clock only (no admin API, no injected clock):

- a 429 comes once more than `limit` requests fall in one rolling second, in Infobip's JSON envelope, with a
  Retry-After of delta-seconds >= 1 or an HTTP-date;
- no second holds more than `limit` answers other than 429 (a 300/s limit is caught);
- after waiting Retry-After, the next request is not a 429.

Send and answer times bound when the server saw each request: a request sent at `s` and answered at `a` arrived
within [s, a]. So "N answers within one second" counts only requests sent and answered inside the same one-second
window, which no correct server can exceed whatever the network's delays; a slow link makes the probe weaker, never
wrong.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from .burst import Answer
from .spec import error_envelope_errors

__all__ = [
    "BURST_SECONDS",
    "ENV_PROBE",
    "MAX_RETRY_AFTER_SECONDS",
    "Exchange",
    "ProbeOutcome",
    "max_requests",
    "parse_retry_after",
    "probe_problems",
    "run_probe",
]

#: ``CONTRACT_RATE_LIMIT_PROBE=off`` switches the probe off (it is on for every target by default).
ENV_PROBE: Final = "CONTRACT_RATE_LIMIT_PROBE"
#: The burst stops sending after this many seconds.
BURST_SECONDS: Final = 2.5
#: The longest Retry-After the probe waits for before its last request.
MAX_RETRY_AFTER_SECONDS: Final = 10.0
_WINDOW_SECONDS: Final = 1.0
_THROTTLED: Final = 429
_FIRST_ERROR: Final = 400

#: Sends the probe's request once and returns the answer.
Send = Callable[[], Awaitable[Answer]]
#: Opens a worker's own sender (its own connection), closed when the worker is done.
OpenSender = Callable[[], AbstractAsyncContextManager[Send]]


def max_requests(limit: int) -> int:
    """The most requests one probe sends: twice the limit plus 50."""
    return 2 * limit + 50


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request of the probe: when it was sent and answered (the client's monotonic clock), and the answer."""

    sent: float
    answered: float
    status: int
    retry_after: str | None
    content_type: str
    content: bytes


@dataclass(slots=True)
class ProbeOutcome:
    """Everything the probe saw."""

    limit: int
    burst: list[Exchange] = field(default_factory=list)
    waited: float | None = None
    after_wait: Exchange | None = None

    @property
    def sent(self) -> int:
        """Requests sent: the burst's, and the one after Retry-After."""
        return len(self.burst) + (self.after_wait is not None)

    @property
    def throttled(self) -> list[Exchange]:
        return [exchange for exchange in self.burst if exchange.status == _THROTTLED]

    def busiest_second(self, *, admitted_only: bool) -> int:
        """The most requests (or answers other than 429) sent and answered within one window of one second."""
        chosen = sorted((e for e in self.burst if not admitted_only or e.status != _THROTTLED), key=lambda e: e.sent)
        best = 0
        for start, first in enumerate(chosen):
            end = first.sent + _WINDOW_SECONDS
            best = max(best, sum(1 for e in chosen[start:] if e.answered < end))
        return best


async def _timed(send: Send, clock: Callable[[], float]) -> Exchange:
    sent = clock()
    answer = await send()
    return Exchange(
        sent,
        clock(),
        answer.status,
        answer.headers.get("retry-after"),
        answer.headers.get("content-type", ""),
        answer.content,
    )


async def run_probe(
    open_sender: OpenSender,
    *,
    limit: int,
    concurrency: int,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ProbeOutcome:
    """Burst the request that cannot store anything from `concurrency` workers (each with its own sender) until the
    first 429, the request cap or `BURST_SECONDS`; then wait Retry-After, send once more, and wait for the window
    to empty."""
    outcome = ProbeOutcome(limit)
    cap, deadline = max_requests(limit) - 1, clock() + BURST_SECONDS  # one left for the request after Retry-After
    started = 0

    halted = False

    async def worker() -> None:
        nonlocal started, halted
        async with open_sender() as send:
            while not halted and started < cap and clock() < deadline:
                started += 1
                exchange = await _timed(send, clock)
                outcome.burst.append(exchange)
                # Stop at the first 429, and at the first answer that may have stored something: a server that
                # stores events for a person that cannot exist must not be sent hundreds more.
                halted = halted or exchange.status == _THROTTLED or exchange.status < _FIRST_ERROR

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if outcome.throttled:
        last = max(outcome.throttled, key=lambda e: e.answered)
        wait = parse_retry_after(last.retry_after)
        if wait is not None and 0 < wait <= MAX_RETRY_AFTER_SECONDS:
            await sleep(max(0.0, last.answered + wait - clock()))
            outcome.waited = wait
            async with open_sender() as send:
                outcome.after_wait = await _timed(send, clock)
    # Leave the account's window empty for whatever runs next.
    newest = max((e.answered for e in outcome.burst), default=clock())
    await sleep(max(0.0, newest + _WINDOW_SECONDS - clock()))
    return outcome


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds (digits only) or an HTTP-date; None when absent or malformed."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return (when - (now or datetime.now(UTC))).total_seconds()


def _retry_after_problem(exchange: Exchange) -> str | None:
    value = exchange.retry_after
    if value is None:
        return "the 429 has no Retry-After header"
    stripped = value.strip()
    if stripped.isascii() and stripped.isdigit():
        return None if int(stripped) >= 1 else f"the 429's Retry-After is {value!r}: delta-seconds must be >= 1"
    if parse_retry_after(value) is None:
        return f"the 429's Retry-After is {value!r}: neither delta-seconds nor an HTTP-date"
    return None


def _envelope_problem(exchange: Exchange) -> str | None:
    if not exchange.content_type.lower().startswith("application/json"):
        return f"the 429 has Content-Type {exchange.content_type or '(none)'}, not Infobip's JSON error envelope"
    try:
        body = json.loads(exchange.content)
    except ValueError:
        return "the 429's body is not JSON"
    problems = error_envelope_errors(body)
    return f"the 429's body is not Infobip's error envelope: {'; '.join(problems)}" if problems else None


def probe_problems(outcome: ProbeOutcome, *, expected: frozenset[int]) -> list[str]:
    """What the probe found wrong with the target; empty when the limit behaves as documented. `expected` are the
    statuses its requests may get besides 429 (404 for an unknown person)."""
    limit, burst = outcome.limit, outcome.burst
    problems: list[str] = []
    unexpected = sorted({e.status for e in burst if e.status not in expected | {_THROTTLED}})
    if unexpected:
        problems.append(
            f"requests that cannot store anything (an unknown person) got {unexpected}, not {sorted(expected)} or 429"
        )
        if min(unexpected) < _FIRST_ERROR:
            return problems  # the burst stopped there: nothing more can be told
    admitted = outcome.busiest_second(admitted_only=True)
    if admitted > limit:
        problems.append(
            f"{admitted} answers other than 429 to requests sent and answered within one second: the documented "
            f"limit is {limit} requests per second"
        )
    if not outcome.throttled:
        reached = outcome.busiest_second(admitted_only=False)
        if reached > limit:
            problems.append(
                f"no 429 in {len(burst)} requests, {reached} of them within one second, over the documented limit of "
                f"{limit}/s: either the limit is not enforced, or the server counts only valid requests (these were "
                "requests for an unknown person)"
            )
        else:
            problems.append(
                f"no 429, and the probe could not fit more than {limit} requests into one second (busiest: {reached} "
                f"of {len(burst)}): the link is too slow to prove the limit"
            )
        return problems
    first = min(outcome.throttled, key=lambda e: e.answered)
    problems += [p for p in (_envelope_problem(first), _retry_after_problem(first)) if p is not None]
    last = max(outcome.throttled, key=lambda e: e.answered)
    wait = parse_retry_after(last.retry_after)
    if wait is not None and wait > MAX_RETRY_AFTER_SECONDS:
        problems.append(f"the 429's Retry-After is {wait:.0f} s, longer than a per-second limit needs")
    if outcome.after_wait is not None and outcome.after_wait.status == _THROTTLED:
        problems.append(f"after waiting Retry-After ({outcome.waited:g} s), the next request still got 429")
    return problems
