"""Bounded state and the reset barrier: the store's memory budget and eviction, paged reads of a big store, a
capped validationErrors, and a reset that cuts off requests admitted before it."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psutil
import pytest

from people_events_mock import create_app
from people_events_mock.constants import MAX_VALIDATION_ERRORS, OMITTED_ERRORS_KEY
from people_events_mock.definitions import compile_definition
from people_events_mock.state import mock_state
from people_events_mock.store import PersonKey, Store
from people_events_mock.testing import mock_process, read_events, serve
from tests.support.mock_api import APP_AUTH, Sender, event_path, service_exception

# --- budget and eviction ---------------------------------------------------------------------------------------


def _event(store: Store, number: int, size: int) -> None:
    store.record_event(
        PersonKey("A", "EMAIL", "jane.doe@example.com"),
        event_id=f"e{number}",
        definition_id="addToCart",
        properties={"transactionId": "x" * size},
        accepted_at=float(number),
        create_person=False,
    )


def test_store_evicts_the_oldest_past_its_budget_and_forgets_their_ids() -> None:
    store = Store(create_app().state.mock.fixtures.accounts, max_bytes=50_000)
    for number in range(20):
        _event(store, number, 10_000)
    stats = store.stats()
    assert stats["bytes"] <= 50_000
    assert stats["evicted"] == 20 - stats["events"] > 0
    kept = [event.event_id for event in store.events()]
    assert kept == [f"e{number}" for number in range(20 - stats["events"], 20)]
    # An evicted id is forgotten: sending it again stores a new event (documented in README).
    _event(store, 0, 10)
    assert store.events()[-1].event_id == "e0"


@pytest.mark.slow
def test_1500_events_of_300_kb_stay_within_the_budget_and_a_page_is_fast() -> None:
    """1,500 events of 300 KB (450 MB) into a 32 MiB budget: the newest are kept within it, RSS stays near it,
    and a 10-event page of them is served in under 100 ms (the fastest of 5 reads)."""
    budget_mb = 32
    big = {"transactionId": "x" * 300_000}
    with mock_process(options=["--max-store-mb", str(budget_mb)]) as served_mock:
        process = psutil.Process(served_mock.pid)
        before = process.memory_info().rss
        url = f"{served_mock.base_url}{event_path()}?identifierType=EMAIL"

        def send(numbers: range) -> list[int]:
            with httpx.Client(headers=APP_AUTH, timeout=30) as client:
                return [client.post(url, json={"eventId": f"big-{n}", "properties": big}).status_code for n in numbers]

        with ThreadPoolExecutor(4) as pool:
            statuses = [status for chunk in pool.map(send, [range(k, 1500, 4) for k in range(4)]) for status in chunk]
        assert statuses == [201] * 1500
        store = httpx.get(f"{served_mock.base_url}/_mock/health").json()["store"]
        assert store["bytes"] <= store["maxBytes"] == budget_mb * 2**20
        assert store["events"] + store["evicted"] == 1500
        assert 80 <= store["events"] <= 120  # about 32 MiB / 300 KB
        growth = process.memory_info().rss - before
        assert growth < (budget_mb + 64) * 2**20, f"RSS grew {growth / 2**20:.0f} MiB"
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            page = httpx.get(f"{served_mock.base_url}/_mock/events", params={"limit": "10"}, timeout=10)
            timings.append(time.perf_counter() - started)
            assert page.json()["count"] == 10
            assert page.json()["next"] is not None
        assert min(timings) < 0.1, timings
        assert len(read_events(served_mock.base_url)) == store["events"]


# --- validationErrors ------------------------------------------------------------------------------------------


async def test_validation_errors_are_capped_with_a_count(send: Sender) -> None:
    """480 KB of unknown properties: the 400 lists MAX_VALIDATION_ERRORS of them and counts the rest."""
    properties = {f"u{number:06d}_{'p' * 20}": 1 for number in range(14_000)}
    body = json.dumps({"properties": properties}).encode()
    assert 400_000 < len(body) < 512_000
    response = await send(content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    errors = service_exception(response)["validationErrors"]
    assert len(errors) == MAX_VALIDATION_ERRORS + 1
    assert errors[OMITTED_ERRORS_KEY] == [f"{14_000 - MAX_VALIDATION_ERRORS} more validation errors omitted"]
    assert len(response.content) < 20_000


async def test_long_paths_and_messages_are_clipped(send: Sender) -> None:
    response = await send(json={"properties": {"k" * 100_000: 1}})
    [(path, _messages)] = service_exception(response)["validationErrors"].items()
    assert len(path) <= 200
    assert path.endswith("...")
    assert len(response.content) < 1_000


async def test_fault_parameter_with_thousands_of_digits_gets_a_plain_message(send: Sender) -> None:
    for value in ["delay=" + "9" * 5000, "500;times=" + "9" * 5000]:
        response = await send(headers={"X-Mock-Fault": value})
        assert response.status_code == 400
        [message] = service_exception(response)["validationErrors"]["X-Mock-Fault"]
        assert "int" not in message
        assert "digits" not in message


# --- the reset barrier -----------------------------------------------------------------------------------------


def _in_thread(call: Any) -> tuple[threading.Thread, list[httpx.Response]]:
    result: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: result.append(call()))
    thread.start()
    return thread, result


def test_reset_during_a_delayed_send_stores_and_creates_nothing() -> None:
    """A send admitted before a reset (held by `delay=800`) answers 201 as it would have, but stores no event,
    creates no person, and does not bring back a definition the reset removed."""
    app = create_app()
    with serve(app) as base_url:
        definition = {"definitionId": "temporary", "title": "Gone after the reset"}
        created = httpx.post(f"{base_url}/_mock/definitions", json={"account": "A", "definition": definition})
        assert created.status_code == 201
        new_person = f"{base_url}{event_path('new@example.com')}?identifierType=EMAIL&createPerson=true"
        temporary = f"{base_url}{event_path(definition_id='temporary')}?identifierType=EMAIL"
        delayed = {**APP_AUTH, "X-Mock-Fault": "delay=800"}
        calls = [
            lambda: httpx.post(new_person, json={"eventId": "before-reset-1"}, headers=delayed, timeout=10),
            lambda: httpx.post(temporary, json={"eventId": "before-reset-2"}, headers=delayed, timeout=10),
        ]
        started = [_in_thread(call) for call in calls]
        time.sleep(0.3)
        assert httpx.post(f"{base_url}/_mock/reset").status_code == 200
        for thread, _ in started:
            thread.join(10)
        assert [result[0].status_code for _, result in started] == [201, 201]
        assert [result[0].json()["eventId"] for _, result in started] == ["before-reset-1", "before-reset-2"]
        assert read_events(base_url) == []
        again = httpx.post(new_person.replace("&createPerson=true", ""), json={}, headers=APP_AUTH)
        assert again.status_code == 404, "the person did not come back"
        assert mock_state(app).store.definition("A", "temporary") is None
        # After the reset, sends work as usual.
        assert httpx.post(new_person, json={"eventId": "after"}, headers=APP_AUTH).status_code == 201
        assert [event["eventId"] for event in read_events(base_url)] == ["after"]


async def test_admin_write_admitted_before_a_reset_changes_nothing() -> None:
    """An admin body still arriving when a reset happens adds no person."""
    app = create_app()
    state = mock_state(app)
    epoch = state.store.epoch
    state.reset()
    assert state.store.add_person(PersonKey("A", "EMAIL", "late@example.com"), epoch=epoch) is True
    assert not state.store.has_person(PersonKey("A", "EMAIL", "late@example.com"))
    assert state.store.put_definition("A", compile_definition({"definitionId": "late", "title": "L"}), epoch=epoch)
    assert state.store.definition("A", "late") is None
