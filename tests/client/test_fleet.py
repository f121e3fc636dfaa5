"""Fleet-wide pacing through Redis (``redis_limiter``): processes share one budget by the server's acceptance times;
when Redis fails or hangs, pacing falls back at once, warns once, and comes back after the cooldown."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable

import pytest
import redis

from people_events_client import AsyncPeopleEvents, PeopleEvents, _fleet, redis_limiter
from people_events_client._constants import FLEET_INCONCLUSIVE_TRIPS
from people_events_mock.pytest_plugin import MockServer
from tests.support.mock_admin import stored_events
from tests.support.net import free_port
from tests.support.redis_server import RedisServer
from tests.support.senders import send_from_processes
from tests.support.servers import silent_server
from tests.support.windows import max_per_rolling_second

pytestmark = pytest.mark.redis
KEY = "mock-api-key"


@pytest.mark.slow
def test_three_processes_share_one_budget(people_events_mock: MockServer, redis_server: RedisServer) -> None:
    """By server acceptance times the combined rate stays within 250/s, and the shared budget keeps the server
    from having to refuse (almost) anything: with per-process budgets it would refuse hundreds."""
    rejected = send_from_processes(
        people_events_mock.base_url, processes=3, threads=5, per_thread=30, redis_url=redis_server.url
    )
    print(f"server 429s (retried): {rejected}")
    assert rejected <= 15
    events = stored_events(people_events_mock.base_url, account="A")
    assert len(events) == 450
    assert max_per_rolling_second([e["acceptedAt"] for e in events]) <= 250


@pytest.mark.slow
def test_without_the_shared_budget_the_server_refuses_the_excess(
    people_events_mock_factory: Callable[..., MockServer], redis_server: RedisServer
) -> None:
    """At a limit the server can easily outrun (50/s), per-process budgets overrun it 3x; the Redis one does not."""
    shared = people_events_mock_factory(rate_limit=50)
    rejected_shared = send_from_processes(
        shared.base_url, processes=3, threads=5, per_thread=10, rate=50, redis_url=redis_server.url
    )
    alone = people_events_mock_factory(rate_limit=50)
    rejected_alone = send_from_processes(alone.base_url, processes=3, threads=5, per_thread=10, rate=50)
    print(f"server 429s: shared budget {rejected_shared}, per-process budgets {rejected_alone}")
    assert rejected_shared <= 5
    assert rejected_alone >= 12


def test_an_outage_falls_back_warns_once_and_redis_is_used_again_after_the_cooldown(
    people_events_mock: MockServer,
    caplog: pytest.LogCaptureFixture,
    own_redis_server: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_fleet, "FLEET_COOLDOWN", 0.5)
    server = own_redis_server
    inspect = redis.Redis.from_url(server.url)
    people = PeopleEvents(people_events_mock.base_url, KEY, limiter=redis_limiter(server.url, rate_limit=250))
    people.send("1001", "addToCart", identifier_type="ID")
    assert inspect.keys("{people_events:pacing:*"), "the budget lives in Redis while it is up"
    server.stop()
    with caplog.at_level(logging.INFO, logger="people_events_client"):
        for _ in range(3):
            people.send("1001", "addToCart", identifier_type="ID")
        server.start()
        assert not inspect.keys("{people_events:pacing:*")
        time.sleep(0.6)
        people.send("1001", "addToCart", identifier_type="ID")
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "people_events_client"]
    assert [level for level, _ in messages] == ["WARNING", "INFO"]
    assert "ConnectionError" in messages[0][1]
    assert inspect.keys("{people_events:pacing:*"), "after the cooldown the budget is in Redis again"
    assert len(stored_events(people_events_mock.base_url, account="A")) == 5


def test_a_deadline_bounds_a_redis_call_shorter_than_the_limiters_timeout(
    people_events_mock: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    """With a 5 s Redis timeout and a 0.4 s deadline, a hung Redis gets half the deadline, not 5 s: the send still
    completes through the in-process fallback, and the circuit opens for the senders after it."""
    with silent_server() as (host, port), caplog.at_level(logging.WARNING, logger="people_events_client"):
        limiter = redis_limiter(f"redis://{host}:{port}/0", rate_limit=250, timeout=5.0)
        people = PeopleEvents(people_events_mock.base_url, KEY, limiter=limiter, deadline=0.4)
        started = time.monotonic()
        people.send("1001", "addToCart", identifier_type="ID", event_id="bounded")
        assert time.monotonic() - started < 0.4
    assert not limiter.usable()
    assert len(caplog.records) == 1
    assert stored_events(people_events_mock.base_url, account="A", eventId="bounded")


def test_a_nearly_spent_deadline_falls_back_without_opening_the_circuit() -> None:
    with silent_server() as (host, port):
        limiter = redis_limiter(f"redis://{host}:{port}/0", rate_limit=250, timeout=5.0)
        with pytest.raises(_fleet.FleetUnavailable):
            limiter.take("k", remaining=0.08)  # half of it is less than FLEET_MIN_CALL
    assert limiter.usable()


def test_async_fleet_waits_hold_no_thread_and_cancelled_waits_take_no_permit(
    people_events_mock: MockServer, redis_server: RedisServer
) -> None:
    inspect = redis.Redis.from_url(redis_server.url)
    threads = threading.active_count()

    async def scenario() -> int:
        people = AsyncPeopleEvents(
            people_events_mock.base_url, KEY, rate_limit_key="cancel-fleet",
            limiter=redis_limiter(redis_server.url, rate_limit=1),
        )  # fmt: skip
        await people.send("1001", "addToCart", identifier_type="ID")
        waiting = [asyncio.create_task(people.send("1001", "addToCart", identifier_type="ID")) for _ in range(30)]
        await asyncio.sleep(0.3)
        busy = threading.active_count()
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        return busy

    busy = asyncio.run(scenario())
    assert busy <= threads + 1  # at most the one background loop for Redis calls
    assert inspect.zcard("{people_events:pacing:cancel-fleet}:1005ms") == 1
    assert len(stored_events(people_events_mock.base_url, account="A")) == 1


def test_with_redis_down_fallback_pacing_keeps_to_the_fleets_rate() -> None:
    """A fleet budget of 5/s and the facade's default rate_limit (250): with Redis unreachable, the process paces at
    5/s, not 250/s."""
    import httpx

    times: list[float] = []

    def stamp(request: httpx.Request) -> httpx.Response:
        times.append(time.monotonic())
        event_id = request.content.split(b'"eventId":"')[1].split(b'"')[0].decode()
        return httpx.Response(
            201, json={"eventId": event_id, "definitionId": "d", "occurredTime": "2026-11-30T10:00:00Z"}
        )

    limiter = redis_limiter(f"redis://127.0.0.1:{free_port()}/0", rate_limit=5)
    people = PeopleEvents(
        "https://api.infobip.com", KEY, limiter=limiter, http_client_args={"transport": httpx.MockTransport(stamp)}
    )
    for _ in range(8):
        people.send("1001", "addToCart", identifier_type="ID")
    assert sum(1 for t in times if t < times[0] + 1.0) <= 5


def test_after_the_cooldown_one_caller_probes_redis_and_the_others_fall_back_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """8 tenants share a hung Redis. After the first failure and the cooldown, only one caller waits on Redis again
    (the probe); the other seven pace in-process without waiting."""
    monkeypatch.setattr(_fleet, "FLEET_COOLDOWN", 0.2)
    with silent_server() as (host, port):
        limiter = redis_limiter(f"redis://{host}:{port}/0", rate_limit=250, timeout=0.5)
        with pytest.raises(_fleet.FleetUnavailable):
            limiter.take("first", remaining=None)
        assert not limiter.usable()
        time.sleep(0.3)

        def take(tenant: int) -> float:
            started = time.monotonic()
            with contextlib.suppress(_fleet.FleetUnavailable):
                limiter.take(f"tenant-{tenant}", remaining=None)
            return time.monotonic() - started

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            waited = sorted(pool.map(take, range(8)))
    assert waited[-1] >= 0.45  # the probe waited its timeout
    assert all(seconds < 0.1 for seconds in waited[:-1])


def test_unanswered_calls_too_short_to_count_alone_open_the_circuit_after_a_few() -> None:
    """With a deadline too tight for any single call to prove Redis dead, three unanswered calls in a row do."""
    with silent_server() as (host, port):
        limiter = redis_limiter(f"redis://{host}:{port}/0", rate_limit=250, timeout=5.0)
        for _ in range(FLEET_INCONCLUSIVE_TRIPS):
            assert limiter.usable()
            with pytest.raises(_fleet.FleetUnavailable):
                limiter.take("tight", remaining=0.08)
    assert not limiter.usable()
