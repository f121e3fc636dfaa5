"""Senders for real-time client tests: threads and processes sending through the facade, counting the 429s the
server answered (each is retried by the facade; a caller never sees them unless retries run out)."""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.queues import Queue
from typing import Any

import httpx

from people_events_client import PeopleEvents, redis_limiter


class Count429:
    """A response hook counting the server's 429s; ``hooks`` goes into ``http_client_args``."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, response: httpx.Response) -> None:
        if response.status_code == 429:
            with self._lock:
                self.count += 1

    async def async_hook(self, response: httpx.Response) -> None:
        self(response)

    @property
    def hooks(self) -> dict[str, Any]:
        return {"event_hooks": {"response": [self]}}

    @property
    def async_hooks(self) -> dict[str, Any]:
        return {"event_hooks": {"response": [self.async_hook]}}


def send_from_threads(
    base_url: str,
    *,
    threads: int,
    per_thread: int,
    rate: int = 250,
    redis_url: str | None = None,
    key: str | None = None,
) -> int:
    """``threads`` threads, each with its own facade on one budget, send ``per_thread`` events; returns the 429s."""
    limiter = None if redis_url is None else redis_limiter(redis_url, rate_limit=rate)
    counter = Count429()
    errors: list[BaseException] = []

    def sender() -> None:
        people = PeopleEvents(
            base_url, "mock-api-key", rate_limit=rate, limiter=limiter, rate_limit_key=key,
            http_client_args=counter.hooks,
        )  # fmt: skip
        try:
            for _ in range(per_thread):
                people.send("1001", "addToCart", identifier_type="ID")
        except BaseException as err:
            errors.append(err)
        finally:
            people.close()

    workers = [threading.Thread(target=sender) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return counter.count


def _process_target(
    base_url: str, redis_url: str | None, threads: int, per_thread: int, rate: int, out: Queue[int]
) -> None:
    out.put(send_from_threads(base_url, threads=threads, per_thread=per_thread, rate=rate, redis_url=redis_url))


def send_from_processes(
    base_url: str, *, processes: int, threads: int, per_thread: int, rate: int = 250, redis_url: str | None = None
) -> int:
    """The same from ``processes`` spawned processes (one budget each, or one shared in Redis); returns the 429s."""
    spawn = multiprocessing.get_context("spawn")
    out: Queue[int] = spawn.Queue()
    workers = [
        spawn.Process(target=_process_target, args=(base_url, redis_url, threads, per_thread, rate, out))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    counts = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0] * processes
    return sum(counts)
