"""In-process pacing: the windows, the budget's verdicts, budgets released with their facades, no threads, the
deadline, and cancelled async waits that take nothing. (Real time, in windows of about a second.)"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from people_events_client import AsyncPeopleEvents, DeadlineExceeded, PeopleEvents
from people_events_client._pacing import LocalBudget, budgets_in_use, now_ms
from people_events_client._rates import Pacing, pacing_for
from tests.support.respx_router import API_KEY, BASE_URL


def echo(request: httpx.Request) -> httpx.Response:
    import json

    event_id = json.loads(request.content)["eventId"]
    return httpx.Response(201, json={"eventId": event_id, "definitionId": "d", "occurredTime": "2026-11-26T12:00:00Z"})


def local(rate_limit: int | None = 250, **options: object) -> dict[str, object]:
    return {"rate_limit": rate_limit, "http_client_args": {"transport": httpx.MockTransport(echo)}, **options}


@pytest.mark.parametrize(
    ("rate_limit", "pacing"),
    [
        (250, Pacing(rate_limit=250, second_ms=1005, spacing_ms=4.0, burst=5)),
        (50, Pacing(rate_limit=50, second_ms=1005, spacing_ms=20.0, burst=1)),
        (1, Pacing(rate_limit=1, second_ms=1005, spacing_ms=1000.0, burst=1)),
    ],
    ids=["250", "50", "1"],
)
def test_pacing_rules(rate_limit: int, pacing: Pacing) -> None:
    assert pacing_for(rate_limit) == pacing


def test_a_budget_grants_a_permit_then_reports_the_wait_without_taking_one() -> None:
    budget = LocalBudget(1)
    taken_at, wait = budget.take()
    assert taken_at is not None
    assert wait == 0.0
    refused, first_wait = budget.take()
    assert refused is None
    assert 0.5 < first_wait <= 1.005
    assert budget.take()[1] <= first_wait  # asking again took nothing: the wait only shrinks


def test_a_restamped_permit_counts_from_its_response() -> None:
    """A permit whose response came 0.3 s after it was taken holds its slot until 1.005 s after the response."""
    budget = LocalBudget(1)
    taken_at, _ = budget.take()
    assert taken_at is not None
    time.sleep(0.3)
    budget.restamp(taken_at, now_ms())
    _, wait = budget.take()
    assert 0.9 < wait <= 1.005


def test_spacing_lets_a_small_burst_go_then_one_permit_per_interval() -> None:
    """At 250/s: 5 permits at once (a fiftieth of the budget), then the next one 4 ms after the schedule allows."""
    budget = LocalBudget(250)
    granted = [budget.take()[0] is not None for _ in range(6)]
    assert granted == [True] * 5 + [False]
    _, wait = budget.take()
    assert 0 < wait <= 0.02


def test_facades_with_one_key_share_one_budget_released_by_the_last_close() -> None:
    gc.collect()  # a facade with this key that an earlier test dropped is released first
    before = budgets_in_use()
    one = PeopleEvents(BASE_URL, API_KEY, **local())  # type: ignore[arg-type]
    two = PeopleEvents(BASE_URL, API_KEY, **local())  # type: ignore[arg-type]
    assert budgets_in_use() == before + 1
    one.close()
    assert budgets_in_use() == before + 1
    two.close()
    assert budgets_in_use() == before


def test_a_budget_of_a_facade_dropped_without_close_is_released() -> None:
    gc.collect()  # facades other tests dropped are released first
    before = budgets_in_use()
    facades = [PeopleEvents(BASE_URL, f"key-{n}", **local()) for n in range(50)]  # type: ignore[arg-type]
    assert budgets_in_use() == before + 50
    del facades
    gc.collect()
    assert budgets_in_use() == before


@pytest.mark.parametrize("facade_class", [PeopleEvents, AsyncPeopleEvents], ids=["sync", "async"])
def test_pacing_starts_no_threads_for_many_credentials(facade_class: type[PeopleEvents | AsyncPeopleEvents]) -> None:
    threads_before = threading.active_count()

    async def send_async(people: AsyncPeopleEvents) -> None:
        await people.send("1001", "addToCart", identifier_type="ID")
        await people.aclose()

    for n in range(300):
        people = facade_class(BASE_URL, f"tenant-{n}", **local())  # type: ignore[arg-type]
        if isinstance(people, PeopleEvents):
            people.send("1001", "addToCart", identifier_type="ID")
            people.close()
        else:
            asyncio.run(send_async(people))
    assert threading.active_count() == threads_before


@pytest.mark.parametrize("facade_class", [PeopleEvents, AsyncPeopleEvents], ids=["sync", "async"])
def test_a_wait_longer_than_the_deadline_fails_at_once(facade_class: type[PeopleEvents | AsyncPeopleEvents]) -> None:
    calls: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return echo(request)

    people = facade_class(
        BASE_URL,
        f"deadline-key-{facade_class.__name__}",
        rate_limit=1,
        deadline=0.3,
        http_client_args={"transport": httpx.MockTransport(record)},
    )

    def send() -> object:
        if isinstance(people, PeopleEvents):
            return people.send("1001", "addToCart", identifier_type="ID")
        return asyncio.run(people.send("1001", "addToCart", identifier_type="ID"))

    send()
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as caught:
        send()
    assert time.monotonic() - started < 0.25
    assert (caught.value.status, caught.value.may_be_stored) == (None, False)
    assert "rate limit" in str(caught.value)
    assert len(calls) == 1


def test_a_cancelled_async_wait_takes_no_permit() -> None:
    """At 1/s: A takes the permit, B waits and is cancelled, and C, a second later, gets the next permit at once.
    Had B taken it when its wait ended, C would wait another second."""

    async def scenario() -> float:
        people = AsyncPeopleEvents(BASE_URL, "cancel-key", **local(1))  # type: ignore[arg-type]
        await people.send("1001", "addToCart", identifier_type="ID")
        waiting = asyncio.create_task(people.send("1001", "addToCart", identifier_type="ID"))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(1.0)
        started = time.monotonic()
        await people.send("1001", "addToCart", identifier_type="ID")
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 0.5


def _paced(rate: int, senders: int, per_sender: int, run: Callable[..., None]) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()

    def stamp(request: httpx.Request) -> httpx.Response:
        with lock:
            times.append(time.monotonic())
        return echo(request)

    run(rate, senders, per_sender, stamp)
    return times


def test_threads_never_exceed_the_rate_in_any_window_of_the_budget() -> None:
    """16 threads at 20/s for 50 sends: by the transport's clock, no 1.005 s window holds more than 20 sends and
    no 100 ms window more than 2 (the client-side view; server-side acceptance is checked against the mock)."""

    def run(rate: int, senders: int, per_sender: int, stamp: Callable[[httpx.Request], httpx.Response]) -> None:
        people = PeopleEvents(
            BASE_URL, "threads-key", rate_limit=rate, http_client_args={"transport": httpx.MockTransport(stamp)}
        )

        def work() -> None:
            for _ in range(per_sender):
                people.send("1001", "addToCart", identifier_type="ID")

        workers = [threading.Thread(target=work) for _ in range(senders)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    times = sorted(_paced(20, 10, 5, run))
    assert len(times) == 50
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 1.0) <= 20
        assert sum(1 for u in times[i:] if u < t + 0.095) <= 2


def test_facades_created_and_closed_one_after_another_still_share_a_budget() -> None:
    """A facade per job (created, used, closed) at 5/s for 12 jobs: the budget outlives each facade by one window,
    so no 1.005 s window holds more than 5 sends."""
    times: list[float] = []

    def stamp(request: httpx.Request) -> httpx.Response:
        times.append(time.monotonic())
        return echo(request)

    for _ in range(12):
        people = PeopleEvents(
            BASE_URL, "per-job-key", rate_limit=5, http_client_args={"transport": httpx.MockTransport(stamp)}
        )
        people.send("1001", "addToCart", identifier_type="ID")
        people.close()
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 1.0) <= 5
