"""Under concurrent requests from several threads, no event is lost or stored twice, and the limit is exact."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from starlette.applications import Starlette

from people_events_mock import create_app
from people_events_mock.state import mock_state
from tests.support.clock import START
from tests.support.mock_api import event_path
from tests.support.windows import max_per_rolling_second

THREADS = 8


class TickingClock:
    """A thread-safe fake clock that moves forward a fixed step on every reading."""

    def __init__(self, step: float) -> None:
        self._now = START
        self._step = step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self._now += self._step
            return self._now


def run_in_threads(
    app: Starlette, worker: Callable[[httpx.AsyncClient, int], Coroutine[Any, Any, list[Any]]]
) -> list[Any]:
    """Run `worker(client, index)` in THREADS threads at once, each with its own event loop and client."""
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()

    async def main(index: int) -> list[Any]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
            barrier.wait()
            return await worker(client, index)

    def thread(index: int) -> None:
        try:
            found = asyncio.run(main(index))
            with lock:
                results.extend(found)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=thread, args=(index,)) for index in range(THREADS)]
    for each in threads:
        each.start()
    for each in threads:
        each.join(60)
    assert not errors, errors
    return results


def test_no_event_lost_or_stored_twice_under_concurrent_replays() -> None:
    """Every thread sends the same 60 eventIds in its own order: each is stored once, and all see one event."""
    app = create_app()
    event_ids = [f"evt-{number}" for number in range(60)]

    async def worker(client: httpx.AsyncClient, index: int) -> list[tuple[str, int, dict[str, Any]]]:
        order = event_ids[:]
        random.Random(index).shuffle(order)
        found = []
        for event_id in order:
            response = await client.post(
                event_path() + "?identifierType=EMAIL",
                json={"eventId": event_id, "properties": {"totalCost": index}},
                headers={"Authorization": "App mock-fuzz-key"},
            )
            found.append((event_id, response.status_code, response.json()))
        return found

    results = run_in_threads(app, worker)
    assert {status for _, status, _ in results} == {201}
    stored = mock_state(app).store.events()
    assert sorted(event.event_id for event in stored) == sorted(event_ids)
    by_id = {event.event_id: event.response_body() for event in stored}
    assert all(body == by_id[event_id] for event_id, _, body in results)


def test_no_event_lost_without_event_ids() -> None:
    app = create_app()

    async def worker(client: httpx.AsyncClient, index: int) -> list[str]:
        ids = []
        for _ in range(40):
            response = await client.post(
                event_path() + "?identifierType=EMAIL", headers={"Authorization": "App mock-fuzz-key"}
            )
            ids.append(response.json()["eventId"])
        return ids

    ids = run_in_threads(app, worker)
    stored = [event.event_id for event in mock_state(app).store.events()]
    assert len(ids) == len(set(ids)) == THREADS * 40
    assert sorted(stored) == sorted(ids)


def test_concurrent_burst_admits_exactly_the_limit() -> None:
    """Eight threads racing at one instant: exactly 250 get 201, the rest 429."""
    frozen = START
    app = create_app(clock=lambda: frozen)

    async def worker(client: httpx.AsyncClient, index: int) -> list[int]:
        statuses = []
        for _ in range(50):
            response = await client.post(
                event_path() + "?identifierType=EMAIL", headers={"Authorization": "App mock-api-key"}
            )
            statuses.append(response.status_code)
        return statuses

    statuses = run_in_threads(app, worker)
    assert statuses.count(201) == 250
    assert statuses.count(429) == THREADS * 50 - 250
    assert len(mock_state(app).store.events()) == 250


def test_no_rolling_second_exceeds_the_limit_under_concurrency() -> None:
    """With time moving 0.5 ms per clock reading, every second [t, t + 1) of acceptance times holds <= 250 events."""
    app = create_app(clock=TickingClock(step=0.0005))

    async def worker(client: httpx.AsyncClient, index: int) -> list[int]:
        statuses = []
        for _ in range(250):
            response = await client.post(
                event_path() + "?identifierType=EMAIL", headers={"Authorization": "App mock-api-key"}
            )
            statuses.append(response.status_code)
        return statuses

    statuses = run_in_threads(app, worker)
    accepted = sorted(event.accepted_at for event in mock_state(app).store.events())
    assert statuses.count(201) == len(accepted)
    assert statuses.count(429) > 0
    assert max_per_rolling_second(accepted) <= 250
    assert max_per_rolling_second(accepted) == 250
