"""Fleet-wide pacing through Redis: 3 processes share one account's 250/s budget; without Redis, pacing falls back."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.queues import Queue

import pytest
import redis

from people_events_client import PeopleEvents, redis_limiter
from people_events_mock.pytest_plugin import MockServer
from tests.support.redis_server import RedisServer

from .test_against_mock import Counting429, max_per_rolling_second, stored

PROCESSES, THREADS, PER_PROCESS = 3, 5, 150

pytestmark = pytest.mark.redis


def send_from_process(base_url: str, redis_url: str | None, count: int, rate: int, rejections: Queue[int]) -> None:
    limiter = None if redis_url is None else redis_limiter(redis.Redis.from_url(redis_url), rate_limit=rate)
    transports = [Counting429() for _ in range(THREADS)]

    def sender(transport: Counting429) -> None:
        people = PeopleEvents(
            base_url, "mock-api-key", rate_limit=rate, limiter=limiter, http_client_args={"transport": transport}
        )
        for _ in range(count // THREADS):
            people.send("1001", "addToCart", identifier_type="ID")

    threads = [threading.Thread(target=sender, args=(t,)) for t in transports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rejections.put(sum(t.count for t in transports))


def run_processes(base_url: str, redis_url: str | None, *, per_process: int = PER_PROCESS, rate: int = 250) -> int:
    """Run the senders; the number of 429s the server sent them (each retried by the facade)."""
    spawn = multiprocessing.get_context("spawn")
    rejections: Queue[int] = spawn.Queue()
    processes = [
        spawn.Process(target=send_from_process, args=(base_url, redis_url, per_process, rate, rejections))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    counts = [rejections.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    return sum(counts)


@pytest.mark.slow
def test_three_processes_share_one_budget(people_events_mock: MockServer, redis_server: RedisServer) -> None:
    """By server acceptance times the combined rate stays within 250/s, and the shared budget keeps the server
    from having to refuse (almost) anything: with per-process budgets it would refuse hundreds."""
    rejected = run_processes(people_events_mock.base_url, redis_server.url)
    print(f"server 429s (retried): {rejected}")
    assert rejected <= PROCESSES * PER_PROCESS // 30
    events = stored(people_events_mock.base_url, account="A")
    assert len(events) == PROCESSES * PER_PROCESS
    assert max_per_rolling_second([e["acceptedAt"] for e in events]) <= 250


@pytest.mark.slow
def test_without_the_shared_budget_the_server_refuses_the_excess(
    people_events_mock_factory: Callable[..., MockServer], redis_server: RedisServer
) -> None:
    """At a limit the server can easily outrun (50/s), per-process budgets overrun it 3x; the Redis one does not."""
    shared = people_events_mock_factory(rate_limit=50)
    rejected_shared = run_processes(shared.base_url, redis_server.url, per_process=50, rate=50)
    alone = people_events_mock_factory(rate_limit=50)
    rejected_alone = run_processes(alone.base_url, None, per_process=50, rate=50)
    print(f"server 429s: shared budget {rejected_shared}, per-process budgets {rejected_alone}")
    assert rejected_shared <= 5
    assert rejected_alone >= 12


def test_redis_stopping_mid_run_falls_back_and_warns_once(
    people_events_mock_factory: Callable[..., MockServer],
    caplog: pytest.LogCaptureFixture,
    own_redis_server: RedisServer,
) -> None:
    server = own_redis_server
    mock = people_events_mock_factory()
    client = redis.Redis.from_url(server.url, socket_connect_timeout=0.2, retry=None)
    people = PeopleEvents(mock.base_url, "mock-api-key", limiter=redis_limiter(client, rate_limit=250))
    people.send("1001", "addToCart", identifier_type="ID")
    assert client.keys("people_events:pacing:*"), "the budget lives in Redis while it is up"
    server.stop()
    with caplog.at_level(logging.WARNING, logger="people_events_client"):
        for _ in range(3):
            people.send("1001", "addToCart", identifier_type="ID")
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "pacing limiter failed (ConnectionError); falling back to in-process pacing"
    ]
    assert len(stored(mock.base_url, account="A")) == 4
