"""The rate-limit probe's own logic, against in-memory servers on an injected clock (nothing waits): it passes a
correct rolling-second limit, and names what is wrong with each kind of wrong one."""

from __future__ import annotations

import collections
import contextlib
import email.utils
import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

import pytest

from tests.support.clock import FakeClock

from .burst import Answer
from .probe import Exchange, ProbeOutcome, Send, max_requests, parse_retry_after, probe_problems, run_probe
from .spec import throttling_limit

LIMIT: Final = throttling_limit()
EXPECTED: Final = frozenset({404})
ENVELOPE: Final = json.dumps({"requestError": {"serviceException": {"messageId": "X", "text": "x"}}}).encode()
JSON: Final = {"content-type": "application/json"}


@dataclass
class LimitedServer:
    """A rolling-second limiter answering an unknown person: 404, or 429 past `limit` (None: no limit). Each request
    takes `latency` seconds of the clock."""

    clock: FakeClock
    limit: int | None = LIMIT
    latency: float = 0.001
    retry_after: str | None = "auto"
    throttled_type: str = "application/json"
    penalty: float = 0.0
    found: int = 404
    window: collections.deque[float] = field(default_factory=collections.deque)
    penalty_until: float = 0.0

    async def send(self) -> Answer:
        self.clock.advance(self.latency)
        now = self.clock()
        while self.window and self.window[0] <= now - 1:
            self.window.popleft()
        if self.limit is not None and (now < self.penalty_until or len(self.window) >= self.limit):
            if self.penalty and now >= self.penalty_until:
                self.penalty_until = now + self.penalty
            headers = {"content-type": self.throttled_type}
            wait = str(max(1, math.ceil(self.window[0] + 1 - now))) if self.window else "1"
            if self.retry_after is not None:
                headers["retry-after"] = wait if self.retry_after == "auto" else self.retry_after
            return Answer(429, headers, ENVELOPE if self.throttled_type == "application/json" else b"slow down")
        self.window.append(now)
        return Answer(self.found, JSON, ENVELOPE)

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[Send]:
        yield self.send


async def probe(server: LimitedServer) -> ProbeOutcome:
    return await run_probe(server.open, limit=LIMIT, concurrency=8, clock=server.clock, sleep=server.clock.asleep)


async def test_a_correct_limit_passes_and_the_burst_stops_at_the_first_429() -> None:
    server = LimitedServer(FakeClock())
    outcome = await probe(server)
    assert probe_problems(outcome, expected=EXPECTED) == []
    assert len(outcome.burst) <= LIMIT + 8  # the 429, and at most the other workers' requests in flight
    assert outcome.after_wait is not None
    assert outcome.after_wait.status == 404
    assert outcome.busiest_second(admitted_only=True) == LIMIT


@pytest.mark.parametrize(
    ("server", "says"),
    [
        (dict(limit=LIMIT + 50), "answers other than 429 to requests sent and answered within one second"),
        (dict(limit=None), "either the limit is not enforced, or the server counts only valid requests"),
        (dict(retry_after=None), "no Retry-After"),
        (dict(retry_after="0"), "delta-seconds must be >= 1"),
        (dict(retry_after="soon"), "neither delta-seconds nor an HTTP-date"),
        (dict(throttled_type="text/plain"), "not Infobip's JSON error envelope"),
        (dict(penalty=5.0), "the next request still got 429"),
        (dict(latency=0.005), "could not fit more than"),
        (dict(found=201), "got [201]"),
    ],
    ids=["limit-300", "no-limit", "no-retry-after", "retry-after-zero", "retry-after-garbage", "text-plain-429",
         "penalty", "slow-link", "stores-for-unknown-person"],
)  # fmt: skip
async def test_each_wrong_limit_is_named(server: dict[str, object], says: str) -> None:
    outcome = await probe(LimitedServer(FakeClock(), **server))  # type: ignore[arg-type]
    problems = probe_problems(outcome, expected=EXPECTED)
    assert any(says in problem for problem in problems), problems


async def test_the_burst_is_bounded_in_requests_and_time() -> None:
    """Against a server with no limit, the probe sends at most 2 x limit + 50 requests, within its burst time."""
    clock = FakeClock()
    outcome = await probe(LimitedServer(clock, limit=None, latency=0.0001))
    assert outcome.sent <= max_requests(LIMIT)
    assert len(outcome.burst) == max_requests(LIMIT) - 1
    clock = FakeClock()
    slow = await probe(LimitedServer(clock, limit=None, latency=0.1))
    assert slow.burst[-1].sent - slow.burst[0].sent < 2.5 + 0.1


def test_a_second_counts_only_requests_sent_and_answered_within_it() -> None:
    """Requests sent in one second but answered after it may have reached the server later: they do not count."""
    quick = [Exchange(0.001 * i, 0.001 * i + 0.01, 404, None, "", b"") for i in range(300)]
    late = [Exchange(0.001 * i, 1.5, 404, None, "", b"") for i in range(300)]
    assert ProbeOutcome(LIMIT, burst=quick).busiest_second(admitted_only=True) == 300
    assert ProbeOutcome(LIMIT, burst=late).busiest_second(admitted_only=True) == 0


def test_retry_after_is_delta_seconds_or_an_http_date() -> None:
    now = datetime(2024, 5, 17, 12, 0, tzinfo=UTC)
    in_two_seconds = email.utils.format_datetime(now + timedelta(seconds=2), usegmt=True)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(in_two_seconds, now=now) == 2.0
    assert parse_retry_after("-1") is None
    assert parse_retry_after("1.5") is None
    assert parse_retry_after(None) is None
