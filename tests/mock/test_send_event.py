"""Send Event's happy path, 404s, createPerson, idempotency, raw-path ids and account isolation."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from people_events_mock.clock import format_utc
from people_events_mock.state import MockState
from people_events_mock.store import EventFilter, PersonKey
from tests.support.clock import FakeClock
from tests.support.mock_api import SEED_PERSON, SEED_PROPERTIES, Sender, service_exception
from tests.support.spec import assert_conforms

GUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")


async def test_seed_sample_gets_201_with_the_stored_event(send: Sender, state: MockState, clock: FakeClock) -> None:
    """The seed's request sample is accepted; the 201 echoes it with metadata.source API."""
    response = await send(json={"properties": SEED_PROPERTIES})
    assert response.status_code == 201
    assert_conforms(response)
    body = response.json()
    assert body["definitionId"] == "addToCart"
    assert body["properties"] == SEED_PROPERTIES
    assert body["metadata"] == {"source": "API"}
    assert body["occurredTime"] == format_utc(clock.now)
    [stored] = state.store.events()
    assert stored.response_body() == body
    assert stored.person == PersonKey("A", "EMAIL", SEED_PERSON)


async def test_server_assigns_upper_case_guid_without_event_id(send: Sender) -> None:
    response = await send(json={"properties": {}})
    assert response.status_code == 201
    assert GUID.fullmatch(response.json()["eventId"])


async def test_client_event_id_is_kept(send: Sender) -> None:
    response = await send(json={"eventId": "order-1001-cart-1"})
    assert response.json()["eventId"] == "order-1001-cart-1"


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (None, {}),
        (b"", {"Content-Type": "application/json"}),
        (b"{}", {"Content-Type": "application/json"}),
        (b'{"properties": null}', {"Content-Type": "application/json"}),
    ],
    ids=["no-body-no-content-type", "empty-body", "empty-object", "null-properties"],
)
async def test_absent_properties_are_null(send: Sender, content: bytes | None, headers: dict[str, str]) -> None:
    response = await send(content=content, headers=headers)
    assert response.status_code == 201
    assert_conforms(response)
    assert response.json()["properties"] is None


async def test_occurred_time_is_the_admission_time_in_utc(send: Sender, clock: FakeClock) -> None:
    """occurredTime is the moment the limiter admitted the request, ISO 8601 with Z."""
    clock.now = 1_716_000_000.413915
    response = await send()
    assert response.json()["occurredTime"] == "2024-05-18T02:40:00.413915Z"


async def test_every_definition_field_is_optional(send: Sender) -> None:
    response = await send(json={"properties": {"itemsInCart": [{}, {"category": "shoes"}]}})
    assert response.status_code == 201


async def test_unknown_person_gets_404(send: Sender, state: MockState) -> None:
    response = await send(person_id="nobody@example.com")
    assert response.status_code == 404
    assert_conforms(response)
    assert service_exception(response)["messageId"] == "NOT_FOUND"
    assert state.store.events() == []


async def test_unknown_definition_gets_404(send: Sender) -> None:
    response = await send(definition_id="checkout", json={"properties": {"anything": 1}})
    assert response.status_code == 404
    assert "definition" in service_exception(response)["text"]


async def test_person_id_of_another_identifier_type_gets_404(send: Sender) -> None:
    """Persons are found by (identifierType, personId): the EMAIL person is not a PHONE person."""
    response = await send(identifier_type="PHONE")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("identifier_type", "person_id"),
    [
        ("EMAIL", "jane.doe@example.com"),
        ("PHONE", "41793026727"),
        ("EXTERNAL_ID", "crm-1001"),
        ("ID", "1001"),
        ("FACEBOOK", "facebook-1"),
        ("TIKTOK_BM", "tiktok_bm-1"),
        ("GOOGLE_BUSINESS_MESSAGES", "google_business_messages-1"),
    ],
    ids=str,
)
async def test_fixture_person_of_each_identifier_type_exists(
    send: Sender, identifier_type: str, person_id: str
) -> None:
    response = await send(identifier_type=identifier_type, person_id=quote(person_id, safe=""))
    assert response.status_code == 201


@pytest.mark.parametrize("identifier_type", ["PHONE", "EMAIL", "EXTERNAL_ID"])
async def test_create_person_creates_missing_person(send: Sender, state: MockState, identifier_type: str) -> None:
    response = await send(identifier_type=identifier_type, person_id="new-1", query=None)
    assert response.status_code == 404
    response = await send(query=f"identifierType={identifier_type}&createPerson=true", person_id="new-1")
    assert response.status_code == 201
    assert state.store.has_person(PersonKey("A", identifier_type, "new-1"))
    assert (await send(identifier_type=identifier_type, person_id="new-1")).status_code == 201


@pytest.mark.parametrize("identifier_type", ["ID", "FACEBOOK", "WHATSAPP"])
async def test_create_person_cannot_create_other_identifier_types(
    send: Sender, state: MockState, identifier_type: str
) -> None:
    response = await send(query=f"identifierType={identifier_type}&createPerson=true", person_id="new-1")
    assert response.status_code == 404
    assert not state.store.has_person(PersonKey("A", identifier_type, "new-1"))


async def test_create_person_false_does_not_create(send: Sender) -> None:
    response = await send(query="identifierType=EMAIL&createPerson=false", person_id="new-1")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("identifierType=EMAIL&createPerson=true", {"properties": {"totalCost": "a lot"}}),
        ("identifierType=EMAIL&createPerson=true", {"eventId": "not valid!"}),
        ("identifierType=EMAIL&createPerson=TRUE", {}),
    ],
    ids=["bad-properties", "bad-event-id", "bad-create-person"],
)
async def test_rejected_create_person_creates_nothing(
    send: Sender, state: MockState, query: str, body: dict[str, object]
) -> None:
    """createPerson acts only after every check passed: a 400 leaves no person behind."""
    response = await send(query=query, person_id="new-1", json=body)
    assert response.status_code == 400
    assert not state.store.has_person(PersonKey("A", "EMAIL", "new-1"))
    assert state.store.events() == []


async def test_create_person_with_unknown_definition_creates_nothing(send: Sender, state: MockState) -> None:
    response = await send(query="identifierType=EMAIL&createPerson=true", person_id="new-1", definition_id="nope")
    assert response.status_code == 404
    assert not state.store.has_person(PersonKey("A", "EMAIL", "new-1"))


async def test_replay_returns_original_event_and_stores_nothing(
    send: Sender, state: MockState, clock: FakeClock
) -> None:
    """The same (account, person, eventId) is recorded once; a replay gets 201 with the original."""
    first = await send(json={"eventId": "evt-1", "properties": {"totalCost": 1}})
    clock.advance(5)
    replay = await send(json={"eventId": "evt-1", "properties": {"totalCost": 2, "transactionId": "x"}})
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert len(state.store.events()) == 1


async def test_same_event_id_for_another_person_is_a_new_event(send: Sender, state: MockState) -> None:
    await send(json={"eventId": "evt-1"})
    response = await send(json={"eventId": "evt-1"}, identifier_type="PHONE", person_id="41793026727")
    assert response.status_code == 201
    assert len(state.store.events()) == 2


async def test_same_event_id_in_another_account_is_a_new_event(send: Sender, state: MockState) -> None:
    await send(json={"eventId": "evt-1"})
    response = await send(json={"eventId": "evt-1"}, auth="App mock-api-key-b")
    assert response.status_code == 201
    assert len(state.store.events(EventFilter(event_id="evt-1"))) == 2


async def test_same_event_id_under_another_definition_is_another_event(send: Sender, state: MockState) -> None:
    """Idempotency is per (account, person, definition, eventId): a 201 never reports another definition."""
    _add_other_definition(state)
    first = await send(json={"eventId": "evt-1"})
    other = await send(json={"eventId": "evt-1"}, definition_id="other")
    assert other.status_code == 201
    assert (first.json()["definitionId"], other.json()["definitionId"]) == ("addToCart", "other")
    assert [event.definition_id for event in state.store.events()] == ["addToCart", "other"]
    again = await send(json={"eventId": "evt-1"}, definition_id="other")
    assert again.json() == other.json()
    assert len(state.store.events()) == 2


def _add_other_definition(state: MockState) -> None:
    from people_events_mock.definitions import compile_definition

    state.store.put_definition("A", compile_definition({"definitionId": "other", "title": "Other"}))


async def test_server_assigned_event_id_replays(send: Sender, state: MockState) -> None:
    first = await send()
    replay = await send(json={"eventId": first.json()["eventId"]})
    assert replay.json() == first.json()
    assert len(state.store.events()) == 1


async def test_encoded_slash_in_person_id_reaches_the_handler(send: Sender, state: MockState) -> None:
    """Routing is on the raw path: `a%2Fb` is one person id, `a/b`."""
    state.store.add_person(PersonKey("A", "EXTERNAL_ID", "a/b"))
    response = await send(person_id="a%2Fb", identifier_type="EXTERNAL_ID")
    assert response.status_code == 201
    [stored] = state.store.events()
    assert stored.person.person_id == "a/b"


@pytest.mark.parametrize(
    "person_id",
    ["%2e%2e", "a%0D%0Ab", "%E2%80%8Bjane", "j%C3%A4ne", "%00"],
    ids=["dot-dot", "crlf", "zero-width-space", "umlaut", "nul"],
)
async def test_odd_person_ids_are_ordinary_unknown_persons(send: Sender, person_id: str) -> None:
    response = await send(person_id=person_id)
    assert response.status_code == 404
    assert_conforms(response)


async def test_odd_person_id_can_be_created_and_read_back(send: Sender, state: MockState) -> None:
    response = await send(person_id="a%0D%0Ab%2F..", query="identifierType=EXTERNAL_ID&createPerson=true")
    assert response.status_code == 201
    assert state.store.events()[0].person.person_id == "a\r\nb/.."


async def test_account_b_cannot_reach_account_a_persons(send: Sender, state: MockState) -> None:
    """Account B's persons are distinct records: A's new person is a 404 for B, and nothing lands in A."""
    state.store.add_person(PersonKey("A", "EMAIL", "only-in-a"))
    response = await send(person_id="only-in-a", auth="App mock-api-key-b")
    assert response.status_code == 404
    assert state.store.events() == []


async def test_account_b_events_are_stored_under_b(send: Sender, state: MockState) -> None:
    await send(auth="App mock-api-key-b")
    assert [event.person.account for event in state.store.events()] == ["B"]
