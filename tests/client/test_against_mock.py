"""The facade against the reference mock over HTTP: what it sends is what gets stored, exactly once, under faults
and at the account's rate limit."""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Callable

import pytest

from people_events_client import AsyncPeopleEvents, BasicAuth, PeopleEvents, PeopleEventsError
from people_events_mock.pytest_plugin import MockServer
from people_events_mock.samples import seed_properties
from people_events_mock.testing import mock_process
from tests.support.mock_admin import clear_faults, set_fault, stored_events
from tests.support.senders import Count429
from tests.support.windows import max_per_rolling_second

SEED_PROPERTIES = seed_properties()


def test_seed_sample_is_stored_as_returned(people_events_mock: MockServer) -> None:
    with PeopleEvents(people_events_mock.base_url, "mock-api-key") as people:
        event = people.send("jane.doe@example.com", "addToCart", identifier_type="EMAIL", properties=SEED_PROPERTIES)
    (record,) = stored_events(people_events_mock.base_url, account="A", personId="jane.doe@example.com")
    assert record["eventId"] == event.event_id
    assert record["properties"] == SEED_PROPERTIES == event.to_dict()["properties"]
    assert record["definitionId"] == event.definition_id == "addToCart"
    assert record["metadata"] == {"source": "API"}


@pytest.mark.parametrize("fault", ["500-after-store", "reset-after-store", "500"])
def test_faults_never_store_an_event_twice(people_events_mock_factory: Callable[..., MockServer], fault: str) -> None:
    mock = people_events_mock_factory(rng=random.Random(2026))
    set_fault(mock.base_url, fault, probability=0.5)
    people = PeopleEvents(mock.base_url, "mock-api-key", max_retries=6, _sleep=lambda _: None)
    returned, raised = [], []
    for n in range(40):
        event_id = f"{fault}-{n}"
        try:
            people.send("1001", "addToCart", identifier_type="ID", event_id=event_id)
            returned.append(event_id)
        except PeopleEventsError:
            raised.append(event_id)
    counts = Counter(e["eventId"] for e in stored_events(mock.base_url, account="A"))
    assert all(counts[event_id] == 1 for event_id in returned)
    assert all(counts[event_id] <= 1 for event_id in raised)
    assert returned, "with 7 attempts at p=0.5 most sends get through"
    clear_faults(mock.base_url)
    for event_id in raised:
        people.send("1001", "addToCart", identifier_type="ID", event_id=event_id)
    counts = Counter(e["eventId"] for e in stored_events(mock.base_url, account="A"))
    assert sorted(counts) == sorted(returned + raised)
    assert set(counts.values()) == {1}


@pytest.mark.slow
def test_threads_and_asyncio_share_one_budget_at_the_limit(record_property: Callable[[str, object], None]) -> None:
    """8 threads plus an asyncio loop, two credentials of account A, one rate_limit_key: 750 events at 250/s.

    The server's own limiter keeps every rolling second at 250 whatever the client does, so the evidence of one
    shared budget is that the server never had to refuse: separate budgets would overrun it 9 times over, and
    draw hundreds of 429s. Cold starts (first requests waiting for new connections, arriving late) cannot bunch
    with the next second's either: a permit counts from its response. The mock runs in its own process, so that
    its scheduling does not share this process's GIL."""
    with mock_process() as mock:
        server_429s = send_from_threads_and_asyncio(mock.base_url)
    record_property("server_429s", server_429s)
    print(f"server 429s (retried): {server_429s}")
    assert server_429s == 0


def send_from_threads_and_asyncio(base_url: str) -> int:
    """Send 750 events, check they are all stored once, and return the 429s the server answered."""
    total, threads = 750, 8
    per_thread = 60
    counter = Count429()
    errors: list[BaseException] = []

    def thread_sender() -> None:
        people = PeopleEvents(base_url, "mock-api-key", rate_limit_key="account-A", http_client_args=counter.hooks)
        try:
            for _ in range(per_thread):
                people.send("1001", "addToCart", identifier_type="ID")
        except BaseException as err:
            errors.append(err)

    async def async_senders(count: int) -> None:
        people = AsyncPeopleEvents(
            base_url, auth=BasicAuth("mock-user", "mock-password"), rate_limit_key="account-A",
            http_client_args=counter.async_hooks,
        )  # fmt: skip
        async with people:
            await asyncio.gather(*(people.send("1001", "addToCart", identifier_type="ID") for _ in range(count)))

    workers = [threading.Thread(target=thread_sender) for _ in range(threads)]
    for worker in workers:
        worker.start()
    asyncio.run(async_senders(total - threads * per_thread))
    for worker in workers:
        worker.join()

    assert not errors
    events = stored_events(base_url, account="A")
    assert len(events) == total
    assert len({e["eventId"] for e in events}) == total
    assert max_per_rolling_second([e["acceptedAt"] for e in events]) <= 250
    return counter.count


@pytest.mark.slow
def test_hundreds_of_async_tasks_pace_without_a_single_429() -> None:
    """200 tasks on one AsyncPeopleEvents at 50/s against a server limited to 50/s: every rolling second of the
    server's holds at most 50, and the server never answers 429."""
    counter = Count429()

    async def send_all(base_url: str) -> None:
        async with AsyncPeopleEvents(
            base_url, "mock-api-key", rate_limit=50, http_client_args=counter.async_hooks
        ) as people:
            await asyncio.gather(*(people.send("1001", "addToCart", identifier_type="ID") for _ in range(200)))

    with mock_process(rate_limit=50) as mock:
        asyncio.run(send_all(mock.base_url))
        events = stored_events(mock.base_url, account="A")
    assert len(events) == 200
    assert max_per_rolling_second([e["acceptedAt"] for e in events]) <= 50
    assert counter.count == 0
