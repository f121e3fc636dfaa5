"""The admin API: health, reset, persons, definitions, events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from people_events_mock.state import MockState
from people_events_mock.store import PersonKey
from tests.support.clock import FakeClock
from tests.support.mock_api import Sender, service_exception

NUMERIC_DEFINITION = {
    "definitionId": "pageView",
    "title": "Page view",
    "fields": [{"name": "seconds", "type": "Numeric"}, {"name": "url", "type": "String", "schema": None}],
}


async def test_health_reports_the_store(client: httpx.AsyncClient, send: Sender) -> None:
    await send(json={"eventId": "e1"})
    response = await client.get("/_mock/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["store"]["events"] == 1
    assert body["store"]["evicted"] == 0
    assert 0 < body["store"]["bytes"] <= body["store"]["maxBytes"] == 100 * 2**20


async def test_admin_needs_no_credentials_and_does_not_count_toward_the_limit(
    client: httpx.AsyncClient, send: Sender
) -> None:
    for _ in range(300):
        await client.get("/_mock/events")
    assert (await send()).status_code == 201


async def test_reset_returns_to_the_fixtures(client: httpx.AsyncClient, send: Sender, state: MockState) -> None:
    await client.post("/_mock/persons", json={"account": "A", "identifierType": "EMAIL", "personId": "x@y"})
    await client.post("/_mock/definitions", json={"account": "A", "definition": NUMERIC_DEFINITION})
    await client.put("/_mock/faults", json={"fault": "500", "next": 5})
    for _ in range(250):
        await send()
    assert (await client.post("/_mock/reset")).status_code == 200
    assert state.store.events() == []
    assert not state.store.has_person(PersonKey("A", "EMAIL", "x@y"))
    assert state.store.definition("A", "pageView") is None
    assert state.faults.rules() == []
    assert (await send()).status_code == 201


async def test_add_person_makes_it_reachable(client: httpx.AsyncClient, send: Sender) -> None:
    body = {"account": "A", "identifierType": "TELEGRAM", "personId": "tg-42"}
    response = await client.post("/_mock/persons", json=body)
    assert response.status_code == 201
    assert response.json() == body
    assert (await client.post("/_mock/persons", json=body)).status_code == 200
    assert (await send(identifier_type="TELEGRAM", person_id="tg-42")).status_code == 201


async def test_person_added_to_b_is_not_in_a(client: httpx.AsyncClient, send: Sender) -> None:
    await client.post("/_mock/persons", json={"account": "B", "identifierType": "EMAIL", "personId": "b-only"})
    assert (await send(person_id="b-only")).status_code == 404
    assert (await send(person_id="b-only", auth="App mock-api-key-b")).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"account": "Z", "identifierType": "EMAIL", "personId": "x"},
        {"account": "A", "identifierType": "email", "personId": "x"},
        {"account": "A", "identifierType": "EMAIL", "personId": ""},
        {"account": "A", "identifierType": "EMAIL", "personId": "x" * 257},
        {"account": "A", "identifierType": "EMAIL"},
        {},
    ],
    ids=["unknown-account", "lower-case-type", "empty-id", "long-id", "missing-id", "empty"],
)
async def test_invalid_person_gets_400(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post("/_mock/persons", json=body)
    assert response.status_code == 400
    assert service_exception(response)["validationErrors"]


@pytest.mark.parametrize(
    "content", [b"", b"{", b"[]", b"[" * 5000 + b"]" * 5000], ids=["empty", "malformed", "array", "deep"]
)
async def test_admin_bad_json_gets_400(client: httpx.AsyncClient, content: bytes) -> None:
    response = await client.post("/_mock/persons", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_add_definition_validates_events_against_it(client: httpx.AsyncClient, send: Sender) -> None:
    response = await client.post("/_mock/definitions", json={"account": "A", "definition": NUMERIC_DEFINITION})
    assert response.status_code == 201
    assert (await send(definition_id="pageView", json={"properties": {"seconds": 3}})).status_code == 201
    assert (await send(definition_id="pageView", json={"properties": {"seconds": 3.5}})).status_code == 400
    assert (await send(definition_id="pageView", auth="App mock-api-key-b")).status_code == 404


async def test_replacing_a_definition_changes_validation(client: httpx.AsyncClient, send: Sender) -> None:
    definition = {"definitionId": "addToCart", "title": "Strict", "fields": [{"name": "sku", "type": "String"}]}
    response = await client.post("/_mock/definitions", json={"account": "A", "definition": definition})
    assert response.status_code == 200
    assert (await send(json={"properties": {"totalCost": 1}})).status_code == 400
    assert (await send(json={"properties": {"sku": "x"}})).status_code == 201


@pytest.mark.parametrize(
    ("definition", "path"),
    [
        ({"title": "No id"}, "definition"),
        ({"definitionId": "has-hyphen", "title": "T"}, "definition.definitionId"),
        ({"definitionId": "x" * 37, "title": "T"}, "definition.definitionId"),
        ({"definitionId": "ok"}, "definition"),
        (
            {"definitionId": "ok", "title": "T", "fields": [{"name": "Upper", "type": "String"}]},
            "definition.fields[0].name",
        ),
        ({"definitionId": "ok", "title": "T", "fields": [{"name": "a", "type": "Money"}]}, "definition.fields[0].type"),
        ({"definitionId": "ok", "title": "T", "fields": [{"name": "a", "type": "List"}]}, "definition.fields[0]"),
        (
            {
                "definitionId": "ok",
                "title": "T",
                "fields": [
                    {
                        "name": "a",
                        "type": "String",
                        "schema": {"type": "Object", "fields": [{"name": "b", "type": "String"}]},
                    }
                ],
            },
            "definition.fields[0].schema",
        ),
        (
            {
                "definitionId": "ok",
                "title": "T",
                "fields": [
                    {
                        "name": "a",
                        "type": "List",
                        "schema": {"type": "Object", "fields": [{"name": "b", "type": "List"}]},
                    }
                ],
            },
            "definition.fields[0].schema.fields[0].type",
        ),
        (
            {
                "definitionId": "ok",
                "title": "T",
                "fields": [{"name": "a", "type": "String"}, {"name": "A", "type": "String"}],
            },
            "definition.fields[1].name",
        ),
        ("not an object", "definition"),
    ],
    ids=[
        "no-id",
        "hyphen-in-id",
        "long-id",
        "no-title",
        "upper-case-field",
        "unknown-type",
        "list-without-schema",
        "schema-on-string",
        "list-in-list",
        "duplicate-names",
        "not-an-object",
    ],
)
async def test_invalid_definition_gets_400_keyed_by_path(
    client: httpx.AsyncClient, definition: object, path: str
) -> None:
    response = await client.post("/_mock/definitions", json={"account": "A", "definition": definition})
    assert response.status_code == 400
    assert path in service_exception(response)["validationErrors"]


async def test_events_lists_account_person_and_acceptance_time(
    client: httpx.AsyncClient, send: Sender, clock: FakeClock
) -> None:
    response = await send(json={"eventId": "e1", "properties": {"totalCost": 5}})
    [listed] = (await client.get("/_mock/events")).json()["events"]
    assert listed == {
        "account": "A",
        "person": {"identifierType": "EMAIL", "personId": "jane.doe@example.com"},
        **response.json(),
        "acceptedAt": clock.now,
        "seq": 1,
    }


async def test_events_filters(client: httpx.AsyncClient, send: Sender) -> None:
    await send(json={"eventId": "a1"})
    await send(json={"eventId": "a2"}, identifier_type="PHONE", person_id="41793026727")
    await send(json={"eventId": "b1"}, auth="App mock-api-key-b")

    async def ids(**params: str) -> list[str]:
        body = (await client.get("/_mock/events", params=params)).json()
        assert body["count"] == len(body["events"])
        return [event["eventId"] for event in body["events"]]

    assert await ids() == ["a1", "a2", "b1"]
    assert await ids(account="A") == ["a1", "a2"]
    assert await ids(account="B") == ["b1"]
    assert await ids(personId="41793026727") == ["a2"]
    assert await ids(account="A", personId="jane.doe@example.com", definitionId="addToCart") == ["a1"]
    assert await ids(definitionId="other") == []
    assert await ids(identifierType="PHONE") == ["a2"]
    assert await ids(eventId="b1") == ["b1"]


async def test_events_page_with_limit_and_after(client: httpx.AsyncClient, send: Sender) -> None:
    for number in range(7):
        await send(json={"eventId": f"p{number}"})
    await send(json={"eventId": "other"}, auth="App mock-api-key-b")
    seen: list[str] = []
    params = {"account": "A", "limit": "3"}
    pages = 0
    while True:
        body = (await client.get("/_mock/events", params=params)).json()
        pages += 1
        assert body["count"] == len(body["events"]) <= 3
        seen += [event["eventId"] for event in body["events"]]
        if body["next"] is None:
            break
        params["after"] = body["next"]
    assert seen == [f"p{number}" for number in range(7)]
    assert pages == 3


async def test_events_without_paging_parameters_is_one_page_of_everything(
    client: httpx.AsyncClient, send: Sender
) -> None:
    for number in range(25):
        await send(json={"eventId": f"e{number}"})
    body = (await client.get("/_mock/events")).json()
    assert (body["count"], body["next"]) == (25, None)


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "10001"}, {"limit": "x"}, {"after": "-1"}, {"after": "9" * 5000}]
)
async def test_bad_paging_parameters_get_400(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get("/_mock/events", params=params)
    assert response.status_code == 400
    assert set(service_exception(response)["validationErrors"]) <= {"limit", "after"}
