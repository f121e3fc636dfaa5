"""The generated client (through its facade) against this run's target: what it sends is recorded as sent, once,
and the target's errors reach the caller as typed exceptions.

The `live_safe` tests run on every target: on live they use only the named person and definition, and a
handful of events of the budget. The others need the reference mock's fixture credentials or its store.
"""

from __future__ import annotations

import uuid
from datetime import UTC

import pytest

from people_events_client import BadRequest, EventProperties, Forbidden, NotFound, Unauthorized

from .targets import LIVE, Target

#: A definitionId that exists nowhere: 30 characters, within the spec's 36.
MISSING_DEFINITION = "contractTestsNoSuchDefinition0"


def _named(target: Target) -> tuple[str, str, str]:
    """(personId, identifierType, definitionId) of the named person (live) or a fixture person (mock)."""
    if LIVE is not None:
        return LIVE.person_id, LIVE.identifier_type, LIVE.definition_id
    return "jane.doe@example.com", "EMAIL", "addToCart"


def _new_event_id() -> str:
    return f"contract-{uuid.uuid4().hex[:24]}"


def _require_budget(target: Target, events: int) -> None:
    """Skip when a live run's event budget cannot cover `events` more (INFOBIP_MAX_EVENTS set that low)."""
    if target.guard is not None and target.guard.remaining < events:
        pytest.skip(f"the live event budget has fewer than {events} events left")


@pytest.mark.live_safe
async def test_event_is_recorded_as_sent(contract_target: Target) -> None:
    """The 201 echoes the eventId and definitionId sent, the properties, and an occurredTime in UTC."""
    _require_budget(contract_target, 1)
    person_id, identifier_type, definition_id = _named(contract_target)
    event_id = _new_event_id()
    async with contract_target.async_facade() as people:
        event = await people.send(
            person_id,
            definition_id,
            identifier_type=identifier_type,
            properties=contract_target.seeds.properties,
            event_id=event_id,
        )
    assert (event.event_id, event.definition_id) == (event_id, definition_id)
    assert event.occurred_time.utcoffset() == UTC.utcoffset(None)
    if contract_target.seeds.properties is not None:
        assert isinstance(event.properties, EventProperties)
        assert event.properties.to_dict() == contract_target.seeds.properties
    if contract_target.app is not None:
        assert len(contract_target.stored_events(event_id=event_id, person_id=person_id)) == 1


@pytest.mark.live_safe
async def test_resending_an_event_id_returns_the_original_event(contract_target: Target) -> None:
    """The same eventId sent twice is recorded once: the second 201 is the first event."""
    _require_budget(contract_target, 2)
    person_id, identifier_type, definition_id = _named(contract_target)
    event_id = _new_event_id()
    async with contract_target.async_facade() as people:
        first = await people.send(person_id, definition_id, identifier_type=identifier_type, event_id=event_id)
        again = await people.send(person_id, definition_id, identifier_type=identifier_type, event_id=event_id)
    assert again.to_dict() == first.to_dict()
    if contract_target.app is not None:
        assert len(contract_target.stored_events(event_id=event_id)) == 1


@pytest.mark.usefixtures("mock_target_only")
async def test_unknown_definition_raises_not_found(contract_target: Target) -> None:
    """A definitionId the account lacks is a 404 in Infobip's envelope, raised as NotFound."""
    person_id, identifier_type, _ = _named(contract_target)
    async with contract_target.async_facade() as people:
        with pytest.raises(NotFound) as raised:
            await people.send(person_id, MISSING_DEFINITION, identifier_type=identifier_type)
    assert raised.value.message_id


@pytest.mark.live_safe
async def test_wrong_credentials_raise_unauthorized(contract_target: Target) -> None:
    """A key the target does not know is a 401, raised as Unauthorized; nothing is recorded."""
    _require_budget(contract_target, 1)
    person_id, identifier_type, definition_id = _named(contract_target)
    async with contract_target.async_facade(api_key=f"contract-tests-wrong-{uuid.uuid4().hex}") as people:
        with pytest.raises(Unauthorized) as raised:
            await people.send(person_id, definition_id, identifier_type=identifier_type)
    assert raised.value.status == 401


@pytest.mark.usefixtures("mock_target_only")
async def test_readonly_credentials_raise_forbidden(contract_target: Target) -> None:
    """A credential without the people:manage scope is a 403, raised as Forbidden."""
    async with contract_target.async_facade(api_key="mock-readonly-key") as people:
        with pytest.raises(Forbidden):
            await people.send("1001", "addToCart", identifier_type="ID")


@pytest.mark.usefixtures("mock_target_only")
async def test_unknown_person_raises_not_found_and_creates_nobody(contract_target: Target) -> None:
    """A person the account lacks is a 404 (without createPerson), raised as NotFound; nothing is stored."""
    person_id = f"nobody-{uuid.uuid4().hex}@example.com"
    async with contract_target.async_facade() as people:
        with pytest.raises(NotFound):
            await people.send(person_id, "addToCart", identifier_type="EMAIL")
    assert contract_target.stored_events(person_id=person_id) == []


@pytest.mark.usefixtures("mock_target_only")
async def test_properties_outside_the_definition_raise_bad_request_keyed_by_path(contract_target: Target) -> None:
    """Properties the definition rejects are a 400 whose validationErrors are keyed by the property's path."""
    properties = {"totalCost": "a lot", "itemsInCart": [{"itemId": 1}, {"quantity": "three"}], "colour": "red"}
    async with contract_target.async_facade() as people:
        with pytest.raises(BadRequest) as raised:
            await people.send("1001", "addToCart", identifier_type="ID", properties=properties)
    assert {"properties.totalCost", "properties.itemsInCart[1].quantity", "properties.colour"} <= set(
        raised.value.validation_errors
    )
