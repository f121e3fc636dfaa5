"""The drainer: outcome classification, and delivery against the served mock with read-backs: exactly once, across
a crash between the 201 and the mark, with persistent faults, bad credentials, and drainer processes killed mid-run."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from people_events_client import (
    AsyncPeopleEvents,
    BadRequest,
    Forbidden,
    NotFound,
    PeopleEventsError,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)
from people_events_client.delivery import (
    Claimed,
    Drainer,
    Halt,
    NewEvent,
    Outcome,
    Rejected,
    Retry,
    RoundPolicy,
    SQLiteStore,
    classify,
)
from people_events_mock.pytest_plugin import MockServer
from people_events_mock.testing import MockProcess
from tests.support.bulk import API_KEY, good_row, unknown_person_row, wrong_type_row
from tests.support.mock_admin import set_fault, set_faults, stored_events
from tests.support.redis_server import RedisServer

FAST = RoundPolicy(max_rounds=3, first_delay=0.01, max_delay=0.05)


def event(row: dict[str, object], event_id: str) -> NewEvent:
    properties = row.get("properties")
    assert properties is None or isinstance(properties, dict)
    return NewEvent(
        event_id=event_id,
        person_id=str(row["personId"]),
        identifier_type=str(row["identifierType"]),
        definition_id=str(row["definitionId"]),
        properties=properties,
    )


def good_events(count: int, tag: str = "engine") -> list[NewEvent]:
    return [event(good_row(n, tag=tag), f"{tag}-{n}") for n in range(count)]


def stored_ids(base_url: str) -> Counter[str]:
    return Counter(stored["eventId"] for stored in stored_events(base_url))


# Classification, by exception class


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (BadRequest("HTTP 400", status=400, validation_errors={"p": ["bad"]}), Rejected),
        (Forbidden("HTTP 403", status=403), Rejected),
        (NotFound("HTTP 404", status=404), Rejected),
        (PeopleEventsError("HTTP 413", status=413), Rejected),
        (Unauthorized("HTTP 401", status=401), Halt),
        (RateLimited("HTTP 429", status=429, retry_after=7.0), Retry),
        (ServerError("HTTP 503", status=503), Retry),
        (TransportError("no response"), Retry),
        (PeopleEventsError("HTTP 201 with a malformed body", status=201), Retry),
    ],
)
def test_each_error_class_has_its_outcome(error: PeopleEventsError, expected: type) -> None:
    outcome = classify(error, 0, RoundPolicy())
    assert isinstance(outcome, expected)
    if isinstance(outcome, Rejected):
        assert (outcome.status, outcome.text) == (error.status, error.text)
        assert outcome.validation_errors == error.validation_errors


def test_retry_delays_grow_honour_retry_after_and_end_in_a_rejection() -> None:
    policy = RoundPolicy(max_rounds=4, first_delay=2.0, max_delay=5.0)
    error = ServerError("HTTP 503", status=503, message_id="UNAVAILABLE", text="Service unavailable")
    delays = [classify(error, rounds, policy) for rounds in range(3)]
    assert [d.delay for d in delays if isinstance(d, Retry)] == [2.0, 4.0, 5.0]
    limited = classify(RateLimited("HTTP 429", status=429, retry_after=30.0), 0, policy)
    assert isinstance(limited, Retry)
    assert limited.delay == 30.0
    final = classify(error, 3, policy)
    assert isinstance(final, Rejected)
    assert (final.status, final.message_id) == (503, "UNAVAILABLE")
    assert final.text == "Service unavailable; still failing after 4 rounds"
    lost = classify(TransportError("connection reset"), 3, policy)
    assert isinstance(lost, Rejected)
    assert lost.status is None


# Delivery against the mock


async def drain(store: SQLiteStore, base_url: str, **options: object) -> Drainer:
    api_key = str(options.pop("api_key", API_KEY))
    max_retries = int(options.pop("max_retries", 0))  # type: ignore[call-overload]
    async with AsyncPeopleEvents(base_url, api_key, rate_limit=None, max_retries=max_retries) as people:
        drainer = Drainer(store, people, concurrency=8, rounds=FAST, **options)  # type: ignore[arg-type]
        await drainer.run()
    return drainer


async def test_delivers_every_event_once_and_records_rejections(people_events_mock: MockServer, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.sqlite")
    good = good_events(60)
    rejected = [event(unknown_person_row(1), "unknown-1"), event(wrong_type_row(2), "wrong-2")]
    store.enqueue(good[:30] + rejected + good[30:])
    seen: list[tuple[int, Outcome]] = []
    drainer = await drain(store, people_events_mock.base_url, on_outcome=lambda c, o: seen.append((c.seq, o)))

    assert (drainer.stats.sent, drainer.stats.rejected) == (60, 2)
    assert stored_ids(people_events_mock.base_url) == Counter(e.event_id for e in good)
    counts = store.counts()
    assert (counts.sent, counts.rejected, counts.pending) == (60, 2, 0)
    [not_found, bad_request] = list(store.finished())
    assert (not_found.status, not_found.message_id, not_found.event_id) == (404, "NOT_FOUND", "unknown-1")
    assert (bad_request.status, bad_request.event_id) == (400, "wrong-2")
    assert "properties.totalCost" in bad_request.validation_errors
    assert len(seen) == 62


class EnqueuesDuringAnEmptyClaim(SQLiteStore):
    """A store where an event is enqueued, and the drainer woken, while a claim that found nothing is returning:
    the window in which an application's enqueue can land between the drainer's look and its wait."""

    def __init__(self, path: Path, late: NewEvent) -> None:
        super().__init__(path)
        self.late = late
        self.wake: Callable[[], object] | None = None

    def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Claimed]:
        claimed = super().claim(owner, limit, lease_seconds)
        if not claimed and self.wake is not None:
            self.enqueue([self.late])
            self.wake()
            self.wake = None
        return claimed


async def test_a_wake_up_during_a_claim_is_not_lost(people_events_mock: MockServer, tmp_path: Path) -> None:
    """The first event's send is held 1.5 s by the server; the second is enqueued (and the drainer woken) while the
    drainer's next claim finds nothing. It is sent at once, not at the next poll (30 s) or after the slow send."""
    slow, late = good_events(2, tag="wake")
    store = EnqueuesDuringAnEmptyClaim(tmp_path / "store.sqlite", late)
    store.enqueue([slow])
    set_fault(people_events_mock.base_url, "delay=1500", next=1)
    order: list[str] = []
    async with AsyncPeopleEvents(people_events_mock.base_url, API_KEY, rate_limit=None, max_retries=0) as people:
        drainer = Drainer(
            store,
            people,
            concurrency=8,
            rounds=FAST,
            poll_interval=30,
            on_outcome=lambda c, o: order.append(c.event.event_id),
        )
        loop = asyncio.get_running_loop()
        store.wake = lambda: loop.call_soon_threadsafe(drainer.wake)
        await asyncio.wait_for(drainer.run(more_coming=lambda: len(order) < 2), timeout=10)
    assert order == [late.event_id, slow.event_id]
    assert stored_ids(people_events_mock.base_url) == Counter([slow.event_id, late.event_id])


async def test_an_on_outcome_listener_that_raises_stops_the_drainer_and_loses_nothing(
    people_events_mock: MockServer, tmp_path: Path
) -> None:
    """The listener raises on its third outcome: the run stops and re-raises it (no worker dies silently, no hang);
    every outcome noted is recorded, and a second run sends the rest, each event stored once."""
    store = SQLiteStore(tmp_path / "store.sqlite")
    events = good_events(30, tag="listener")
    store.enqueue(events)
    seen: list[int] = []

    def listener(item: Claimed, outcome: Outcome) -> None:
        seen.append(item.seq)
        if len(seen) == 3:
            raise LookupError("the listener's own bug")

    with pytest.raises(LookupError, match="the listener's own bug"):
        await asyncio.wait_for(drain(store, people_events_mock.base_url, on_outcome=listener), timeout=10)
    first = store.counts()
    assert first.sent >= 3
    assert first.sent + first.pending == 30
    await drain(store, people_events_mock.base_url)
    assert store.counts().sent == 30
    assert stored_ids(people_events_mock.base_url) == Counter(e.event_id for e in events)


class CrashBeforeTheMarks(SQLiteStore):
    """A store whose outcome writes fail, as if the process died after the 201s and before the marks."""

    def record(self, owner: str, outcomes: Sequence[tuple[int, Outcome]]) -> None:
        raise OSError("simulated crash before the marks were written")


async def test_a_crash_between_the_201_and_the_mark_is_harmless(people_events_mock: MockServer, tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    crashing = CrashBeforeTheMarks(path)
    crashing.enqueue(good_events(40))
    with pytest.raises(OSError, match="simulated crash"):
        await drain(crashing, people_events_mock.base_url)
    assert sum(stored_ids(people_events_mock.base_url).values()) > 0  # the server got events the store never marked

    store = SQLiteStore(path)
    assert store.counts().pending == 40
    store.expire_leases()  # what the CLI does at its start, holding its journal's lock
    drainer = await drain(store, people_events_mock.base_url)
    assert drainer.stats.sent == 40
    assert stored_ids(people_events_mock.base_url) == Counter(e.event_id for e in good_events(40))


async def test_a_5xx_that_persists_is_rejected_after_the_rounds_and_stored_at_most_once(
    people_events_mock: MockServer, tmp_path: Path
) -> None:
    store = SQLiteStore(tmp_path / "store.sqlite")
    store.enqueue(good_events(6))
    set_faults(people_events_mock.base_url, {"500-after-store": 1.0})
    drainer = await drain(store, people_events_mock.base_url, max_retries=1)
    assert (drainer.stats.rejected, drainer.stats.retried) == (6, 12)
    for record in store.finished():
        assert record.status == 500
        assert record.text is not None
        assert record.text.endswith("still failing after 3 rounds")
    # The event was stored on the first attempt; every resend (2 attempts x 3 rounds) was recorded once.
    assert stored_ids(people_events_mock.base_url) == Counter(e.event_id for e in good_events(6))


async def test_bad_credentials_halt_the_drainer_and_dead_letter_nothing(
    people_events_mock: MockServer, tmp_path: Path
) -> None:
    store = SQLiteStore(tmp_path / "store.sqlite")
    store.enqueue(good_events(50))
    drainer = await drain(store, people_events_mock.base_url, api_key="not-a-valid-key")
    assert drainer.stats.halted is not None
    assert "401" in drainer.stats.halted
    counts = store.counts()
    assert (counts.pending, counts.in_flight, counts.rejected, counts.retrying) == (50, 0, 0, 0)
    assert stored_ids(people_events_mock.base_url) == Counter()


# Several drainer processes on one store, one killed


def start_drainer(store: Path, mock: MockProcess, redis_url: str) -> subprocess.Popen[bytes]:
    options = ["--rate", "250", "--lease", "3", "--redis", redis_url]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.drain_worker", str(store), mock.base_url, *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.redis
def test_drainer_processes_share_a_store_and_a_killed_ones_events_are_delivered_once(
    mock: MockProcess, own_redis_server: RedisServer, tmp_path: Path
) -> None:
    """3 drainers, paced together through Redis at the account's 250/s; one gets SIGKILL mid-drain. The others
    claim its events when its 3 s leases expire and send them with the same eventIds."""
    path = tmp_path / "shared.sqlite"
    store = SQLiteStore(path)
    expected = good_events(900, tag="fleet")
    store.enqueue(expected)
    drainers = [start_drainer(path, mock, own_redis_server.url) for _ in range(3)]
    try:
        deadline = time.monotonic() + 60
        while len(stored_events(mock.base_url)) < 250:
            assert time.monotonic() < deadline, "the drainers made no progress"
            assert all(d.poll() is None for d in drainers), "a drainer ended early"
            time.sleep(0.1)
        assert store.counts().in_flight > 0
        os.kill(drainers[0].pid, signal.SIGKILL)
        for survivor in drainers[1:]:
            _, errors = survivor.communicate(timeout=90)
            assert survivor.returncode == 0, errors.decode()
    finally:
        for process in drainers:
            process.kill()
            process.wait(10)
    assert drainers[0].returncode == -signal.SIGKILL
    counts = store.counts()
    assert (counts.sent, counts.pending, counts.rejected) == (900, 0, 0)
    assert stored_ids(mock.base_url) == Counter(e.event_id for e in expected)
