"""The client (through its facade) against this run's target: what it sends is recorded as sent, once, and the
target's errors reach the caller as typed exceptions.

The `live_safe` tests run on every target: on live they use only the named person and definition (or a person that
cannot exist), and a handful of events of the budget. The others need the reference mock's fixture credentials or
its store.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from people_events_client import BadRequest, Forbidden, NotFound, Unauthorized

from .checks import same_properties
from .spec import resolve, send_event_operation
from .targets import Target, TargetKind

#: A definitionId that exists nowhere: 30 characters, within the spec's 36.
MISSING_DEFINITION = "contractTestsNoSuchDefinition0"


def _new_event_id() -> str:
    return f"contract-{uuid.uuid4().hex[:24]}"


def _date_time_fields() -> list[str]:
    """The 201 body's fields that the spec types as date-time (occurredTime)."""
    schema = resolve(send_event_operation()["responses"]["201"]["content"]["application/json"]["schema"])
    return [name for name, field in schema["properties"].items() if field.get("format") == "date-time"]


def _require_budget(target: Target, events: int) -> None:
    """Skip when a live run's event budget cannot cover `events` more (INFOBIP_MAX_EVENTS set that low)."""
    if target.guard is not None and target.guard.remaining < events:
        pytest.skip(f"the live event budget has fewer than {events} events left")


@pytest.mark.live_safe
async def test_event_is_recorded_as_sent(contract_target: Target) -> None:
    """The 201 echoes the eventId, definitionId and properties sent (the known-good ones), with date-times in UTC."""
    _require_budget(contract_target, 1)
    named, event_id = contract_target.named, _new_event_id()
    properties = contract_target.known_good_properties
    async with contract_target.async_facade() as people:
        event = await people.send(
            named.person_id,
            named.definition_id,
            identifier_type=named.identifier_type,
            properties=properties,
            event_id=event_id,
        )
    assert (event.event_id, event.definition_id) == (event_id, named.definition_id)
    recorded = event.to_dict()
    assert same_properties(properties, recorded.get("properties")), f"recorded {recorded.get('properties')!r}"
    for name in _date_time_fields():
        offset = datetime.fromisoformat(recorded[name]).utcoffset()
        assert offset is not None, f"{name} {recorded[name]!r} has no time zone"
        assert not offset, f"{name} {recorded[name]!r} is not in UTC"
    if contract_target.kind is not TargetKind.LIVE:
        assert len(await contract_target.stored_events(eventId=event_id, personId=named.person_id)) == 1


@pytest.mark.live_safe
async def test_resending_an_event_id_returns_the_original_event(contract_target: Target) -> None:
    """The same eventId sent twice is recorded once: the second 201 is the first event."""
    _require_budget(contract_target, 2)
    named, event_id = contract_target.named, _new_event_id()
    async with contract_target.async_facade() as people:
        first = await people.send(
            named.person_id, named.definition_id, identifier_type=named.identifier_type, event_id=event_id
        )
        again = await people.send(
            named.person_id, named.definition_id, identifier_type=named.identifier_type, event_id=event_id
        )
    assert again.to_dict() == first.to_dict()
    if contract_target.kind is not TargetKind.LIVE:
        assert len(await contract_target.stored_events(eventId=event_id)) == 1


@pytest.mark.usefixtures("mock_target_only")
async def test_unknown_definition_raises_not_found(contract_target: Target) -> None:
    """A definitionId the account lacks is a 404 in Infobip's envelope, raised as NotFound."""
    named = contract_target.named
    async with contract_target.async_facade() as people:
        with pytest.raises(NotFound) as raised:
            await people.send(named.person_id, MISSING_DEFINITION, identifier_type=named.identifier_type)
    assert raised.value.message_id


@pytest.mark.live_safe
async def test_wrong_credentials_raise_unauthorized(contract_target: Target) -> None:
    """A key the target does not know is a 401, raised as Unauthorized; nothing is recorded."""
    _require_budget(contract_target, 1)
    named = contract_target.named
    async with contract_target.async_facade(api_key=f"contract-tests-wrong-{uuid.uuid4().hex}") as people:
        with pytest.raises(Unauthorized) as raised:
            await people.send(named.person_id, named.definition_id, identifier_type=named.identifier_type)
    assert raised.value.status == 401


@pytest.mark.usefixtures("mock_target_only")
async def test_readonly_credentials_raise_forbidden(contract_target: Target) -> None:
    """A credential without the people:manage scope is a 403, raised as Forbidden."""
    named = contract_target.named
    async with contract_target.async_facade(api_key="mock-readonly-key") as people:
        with pytest.raises(Forbidden):
            await people.send(named.person_id, named.definition_id, identifier_type=named.identifier_type)


@pytest.mark.live_safe
async def test_unknown_person_raises_not_found_and_creates_nobody(contract_target: Target) -> None:
    """A person the account lacks is a 404 (without createPerson), raised as NotFound; nothing is stored."""
    named = contract_target.named
    person_id = contract_target.unknown_person(named.identifier_type)
    async with contract_target.async_facade() as people:
        with pytest.raises(NotFound):
            await people.send(person_id, named.definition_id, identifier_type=named.identifier_type)
    if contract_target.kind is not TargetKind.LIVE:
        assert await contract_target.stored_events(personId=person_id) == []


@pytest.mark.usefixtures("mock_target_only")
async def test_properties_outside_the_definition_raise_bad_request_keyed_by_path(contract_target: Target) -> None:
    """Properties the definition rejects are a 400 whose validationErrors are keyed by the property's path."""
    named = contract_target.named
    properties = {"totalCost": "a lot", "itemsInCart": [{"itemId": 1}, {"quantity": "three"}], "colour": "red"}
    async with contract_target.async_facade() as people:
        with pytest.raises(BadRequest) as raised:
            await people.send(
                named.person_id, named.definition_id, identifier_type=named.identifier_type, properties=properties
            )
    assert {"properties.totalCost", "properties.itemsInCart[1].quantity", "properties.colour"} <= set(
        raised.value.validation_errors
    )
