"""Injected faults: each response, when they fire, what they store, and that they stay off bad requests."""

from __future__ import annotations

import httpx
import pytest

from people_events_mock.faults import (
    Fault,
    FaultBook,
    FaultKind,
    FaultRequest,
    FaultRule,
    parse_fault,
    parse_fault_header,
)
from people_events_mock.state import MockState
from people_events_mock.store import PersonKey
from tests.support.clock import FakeClock
from tests.support.mock_api import Sender, service_exception
from tests.support.spec import assert_conforms

PERSON = PersonKey("A", "EMAIL", "jane.doe@example.com")


async def test_500_fault_is_json_500_and_stores_nothing(send: Sender, state: MockState) -> None:
    response = await send(headers={"X-Mock-Fault": "500"})
    assert response.status_code == 500
    assert_conforms(response)
    assert service_exception(response)["messageId"] == "GENERAL_ERROR"
    assert state.store.events() == []


async def test_html_502_fault_is_an_html_page(send: Sender, state: MockState) -> None:
    response = await send(headers={"X-Mock-Fault": "html-502"})
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<html>")
    assert state.store.events() == []


async def test_empty_429_fault_has_no_body_and_no_retry_after(send: Sender, state: MockState) -> None:
    response = await send(headers={"X-Mock-Fault": "empty-429"})
    assert response.status_code == 429
    assert response.content == b""
    assert "Retry-After" not in response.headers
    assert state.store.events() == []


async def test_reset_fault_drops_the_connection_in_process(send: Sender, state: MockState) -> None:
    """In-process the dropped connection surfaces as ConnectionResetError (over HTTP: see test_http)."""
    with pytest.raises(ConnectionResetError):
        await send(headers={"X-Mock-Fault": "reset"})
    assert state.store.events() == []


async def test_reset_after_store_stores_then_drops(send: Sender, state: MockState) -> None:
    with pytest.raises(ConnectionResetError):
        await send(json={"eventId": "e1"}, headers={"X-Mock-Fault": "reset-after-store"})
    assert [event.event_id for event in state.store.events()] == ["e1"]


async def test_500_after_store_stores_then_fails(send: Sender, state: MockState) -> None:
    response = await send(json={"eventId": "e1"}, headers={"X-Mock-Fault": "500-after-store"})
    assert response.status_code == 500
    assert_conforms(response)
    assert [event.event_id for event in state.store.events()] == ["e1"]


async def test_retry_after_500_after_store_returns_the_original(send: Sender, state: MockState) -> None:
    """The case exactly-once retries exist for: stored, failed, retried with the same eventId -> one event."""
    fault = {"X-Mock-Fault": "500-after-store;times=1"}
    assert (await send(json={"eventId": "e1", "properties": {"totalCost": 1}}, headers=fault)).status_code == 500
    retry = await send(json={"eventId": "e1", "properties": {"totalCost": 1}}, headers=fault)
    assert retry.status_code == 201
    assert retry.json()["properties"] == {"totalCost": 1}
    assert len(state.store.events()) == 1


async def test_create_person_with_after_store_fault_creates_the_person(send: Sender, state: MockState) -> None:
    query = "identifierType=EMAIL&createPerson=true"
    await send(person_id="new-1", query=query, headers={"X-Mock-Fault": "500-after-store"})
    assert state.store.has_person(PersonKey("A", "EMAIL", "new-1"))


async def test_create_person_with_500_fault_creates_nothing(send: Sender, state: MockState) -> None:
    query = "identifierType=EMAIL&createPerson=true"
    await send(person_id="new-1", query=query, headers={"X-Mock-Fault": "500"})
    assert not state.store.has_person(PersonKey("A", "EMAIL", "new-1"))


async def test_delay_fault_waits_then_succeeds(send: Sender, clock: FakeClock) -> None:
    response = await send(headers={"X-Mock-Fault": "delay=250"})
    assert response.status_code == 201
    assert clock.sleeps == [0.25]


async def test_fault_header_times_counts_per_event_id(send: Sender, state: MockState) -> None:
    """`times=N` fails the first N requests of each eventId; other eventIds have their own count."""
    fault = {"X-Mock-Fault": "500;times=2"}
    statuses = [(await send(json={"eventId": "e1"}, headers=fault)).status_code for _ in range(3)]
    assert statuses == [500, 500, 201]
    assert (await send(json={"eventId": "e2"}, headers=fault)).status_code == 500
    assert [event.event_id for event in state.store.events()] == ["e1"]


async def test_fault_header_without_times_fires_every_time(send: Sender) -> None:
    statuses = [(await send(json={"eventId": "e1"}, headers={"X-Mock-Fault": "500"})).status_code for _ in range(3)]
    assert statuses == [500, 500, 500]


@pytest.mark.parametrize(
    "response_kwargs",
    [
        {"auth": "App wrong"},
        {"auth": "App mock-readonly-key"},
        {"identifier_type": "email"},
        {"person_id": "nobody"},
        {"content": b"{", "headers": {"Content-Type": "application/json"}},
        {"content": b"{}", "headers": {"Content-Type": "text/plain"}},
    ],
    ids=["401", "403", "400", "404", "400-body", "415"],
)
async def test_faults_never_replace_a_rejection(send: Sender, response_kwargs: dict[str, object]) -> None:
    headers = {"X-Mock-Fault": "500", **response_kwargs.pop("headers", {})}  # type: ignore[dict-item]
    response = await send(headers=headers, **response_kwargs)  # type: ignore[arg-type]
    assert response.status_code in {400, 401, 403, 404, 415}


@pytest.mark.parametrize(
    "value",
    [
        "boom",
        "delay",
        "delay=",
        "delay=-1",
        "delay=60001",
        "delay=1.5",
        "500;times=0",
        "500;times=x",
        "500;count=1",
        "",
    ],
)
async def test_invalid_fault_header_gets_400(send: Sender, value: str) -> None:
    response = await send(headers={"X-Mock-Fault": value})
    assert response.status_code == 400
    assert "X-Mock-Fault" in service_exception(response)["validationErrors"]


async def test_admin_next_rule_fires_on_the_next_n_requests(client: httpx.AsyncClient, send: Sender) -> None:
    assert (await client.put("/_mock/faults", json={"fault": "html-502", "next": 2})).status_code == 200
    assert [(await send()).status_code for _ in range(3)] == [502, 502, 201]
    assert (await client.get("/_mock/faults")).json() == {"faults": []}


async def test_admin_probability_rule_uses_the_injected_rng(client: httpx.AsyncClient, send: Sender) -> None:
    await client.put("/_mock/faults", json={"fault": "500", "probability": 0.5})
    statuses = [(await send()).status_code for _ in range(200)]
    assert 60 < statuses.count(500) < 140
    await client.put("/_mock/faults", json={"fault": "500", "probability": 0})
    assert {(await send()).status_code for _ in range(20)} == {201}


async def test_admin_delete_clears_faults(client: httpx.AsyncClient, send: Sender) -> None:
    await client.put("/_mock/faults", json={"fault": "500", "probability": 1})
    assert (await client.delete("/_mock/faults")).status_code == 200
    assert (await send()).status_code == 201


async def test_header_fault_takes_precedence_over_admin_rule(client: httpx.AsyncClient, send: Sender) -> None:
    await client.put("/_mock/faults", json={"fault": "500", "probability": 1})
    assert (await send(headers={"X-Mock-Fault": "html-502"})).status_code == 502


@pytest.mark.parametrize(
    "body",
    [
        {"fault": "500"},
        {"fault": "500", "probability": 0.5, "next": 1},
        {"fault": "500", "probability": 1.5},
        {"fault": "500", "probability": True},
        {"fault": "500", "next": 0},
        {"fault": "500", "next": 1.5},
        {"fault": "nope", "next": 1},
        {"next": 1},
    ],
    ids=["neither", "both", "probability-over-1", "probability-bool", "next-0", "next-fraction", "unknown", "no-fault"],
)
async def test_invalid_admin_fault_rule_gets_400(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    response = await client.put("/_mock/faults", json=body)
    assert response.status_code == 400
    service_exception(response)


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("500", Fault(FaultKind.ERROR_500)),
        (" html-502 ", Fault(FaultKind.HTML_502)),
        ("delay=0", Fault(FaultKind.DELAY, 0)),
        ("delay=60000", Fault(FaultKind.DELAY, 60_000)),
        ("reset-after-store", Fault(FaultKind.RESET_AFTER_STORE)),
    ],
)
def test_parse_fault(text: str, fault: Fault) -> None:
    assert parse_fault(text) == fault
    assert parse_fault(str(fault)) == fault


def test_parse_fault_header_times() -> None:
    assert parse_fault_header("reset; times=3") == FaultRequest(Fault(FaultKind.RESET), times=3)


def test_fault_book_counts_requests_without_event_id_per_person() -> None:
    book = FaultBook()
    requested = FaultRequest(Fault(FaultKind.ERROR_500), times=1)
    assert book.choose(requested, PERSON, None) is not None
    assert book.choose(requested, PERSON, None) is None
    assert book.choose(requested, PersonKey("A", "PHONE", "1"), None) is not None


def test_setting_a_rule_again_replaces_it() -> None:
    book = FaultBook()
    book.set_rule(FaultRule(Fault(FaultKind.ERROR_500), next=1))
    book.set_rule(FaultRule(Fault(FaultKind.ERROR_500), probability=0.0))
    assert book.rules() == [FaultRule(Fault(FaultKind.ERROR_500), probability=0.0)]
