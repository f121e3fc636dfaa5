"""400: ids, query parameters, eventId and properties against the event definition, keyed by path."""

from __future__ import annotations

from typing import Any

import pytest

from people_events_mock.definitions import DefinitionError, compile_definition
from people_events_mock.state import MockState
from people_events_mock.store import PersonKey
from tests.support.mock_api import Sender, service_exception
from tests.support.spec import assert_conforms


async def validation_errors(send: Sender, **kwargs: Any) -> dict[str, list[str]]:
    response = await send(**kwargs)
    assert response.status_code == 400, response.text
    assert_conforms(response)
    errors: dict[str, list[str]] = service_exception(response)["validationErrors"]
    return errors


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("", "identifierType"),
        ("identifierType=", "identifierType"),
        ("identifierType=email", "identifierType"),
        ("identifierType=Email", "identifierType"),
        ("identifierType=EMAIL&identifierType=EMAIL", "identifierType"),
        ("identifierType=EMAIL&identifierType=PHONE", "identifierType"),
        ("identifierType=MAIL", "identifierType"),
        ("identifierType=EMAIL%20", "identifierType"),
        ("identifierType=%FF", "query"),
        ("identifierType=EMAIL&createPerson=TRUE", "createPerson"),
        ("identifierType=EMAIL&createPerson=1", "createPerson"),
        ("identifierType=EMAIL&createPerson=", "createPerson"),
        ("identifierType=EMAIL&createPerson=yes", "createPerson"),
        ("identifierType=EMAIL&createPerson=true&createPerson=true", "createPerson"),
    ],
    ids=[
        "missing",
        "empty",
        "lower-case",
        "mixed-case",
        "repeated-same",
        "repeated-different",
        "unknown",
        "trailing-space",
        "invalid-utf8",
        "create-person-upper-case",
        "create-person-one",
        "create-person-empty",
        "create-person-yes",
        "create-person-repeated",
    ],
)
async def test_bad_query_gets_400_keyed_by_parameter(send: Sender, state: MockState, query: str, key: str) -> None:
    errors = await validation_errors(send, query=query)
    assert key in errors
    assert state.store.events() == []


async def test_lower_case_identifier_type_message_names_the_fix(send: Sender) -> None:
    errors = await validation_errors(send, identifier_type="email")
    assert errors["identifierType"] == ["must be upper case: EMAIL"]


@pytest.mark.parametrize(
    "query",
    ["identifierType=EMAIL&unknown=1", "identifierType=EMAIL&createPerson=false&x", "identifierType=EMAIL&"],
    ids=["unknown-parameter", "bare-parameter", "trailing-ampersand"],
)
async def test_unknown_query_parameters_are_ignored(send: Sender, query: str) -> None:
    assert (await send(query=query)).status_code == 201


@pytest.mark.parametrize(
    ("person_id", "definition_id", "key"),
    [
        ("", "addToCart", "personId"),
        ("p" * 257, "addToCart", "personId"),
        ("jane.doe@example.com", "", "definitionId"),
        ("jane.doe@example.com", "d" * 37, "definitionId"),
        ("%FF", "addToCart", "personId"),
        ("jane.doe@example.com", "%C3", "definitionId"),
    ],
    ids=["empty-person", "person-257", "empty-definition", "definition-37", "person-bad-utf8", "definition-bad-utf8"],
)
async def test_bad_path_ids_get_400(send: Sender, person_id: str, definition_id: str, key: str) -> None:
    errors = await validation_errors(send, person_id=person_id, definition_id=definition_id)
    assert key in errors


async def test_person_id_of_256_characters_is_valid(send: Sender, state: MockState) -> None:
    state.store.add_person(PersonKey("A", "EMAIL", "p" * 256))
    assert (await send(person_id="p" * 256)).status_code == 201


async def test_person_id_length_counts_characters_not_bytes(send: Sender, state: MockState) -> None:
    state.store.add_person(PersonKey("A", "EMAIL", "ä" * 256))
    assert (await send(person_id="%C3%A4" * 256)).status_code == 201


@pytest.mark.parametrize(
    "event_id",
    ["", "a" * 37, "has space", "ünicode", "a/b", "a.b", 42, True, ["a"], {"a": 1}],
    ids=["empty", "37-chars", "space", "non-ascii", "slash", "dot", "number", "boolean", "list", "object"],
)
async def test_invalid_event_id_gets_400(send: Sender, event_id: object) -> None:
    errors = await validation_errors(send, json={"eventId": event_id})
    assert list(errors) == ["eventId"]


@pytest.mark.parametrize("event_id", ["a", "A" * 36, "order_1001-cart", None], ids=["one", "36", "mixed", "null"])
async def test_valid_event_ids_are_accepted(send: Sender, event_id: str | None) -> None:
    assert (await send(json={"eventId": event_id})).status_code == 201


@pytest.mark.parametrize(
    "properties",
    [[], "text", 1, True, [{"totalCost": 1}]],
    ids=["array", "string", "number", "boolean", "array-of-objects"],
)
async def test_properties_must_be_object_or_null(send: Sender, properties: object) -> None:
    errors = await validation_errors(send, json={"properties": properties})
    assert list(errors) == ["properties"]


WRONG_PROPERTIES: list[tuple[str, dict[str, Any], str]] = [
    ("string-as-number", {"transactionId": 1}, "properties.transactionId"),
    ("boolean-as-string", {"fromPromoCampaign": "true"}, "properties.fromPromoCampaign"),
    ("boolean-as-number", {"fromPromoCampaign": 1}, "properties.fromPromoCampaign"),
    ("decimal-as-string", {"totalCost": "100"}, "properties.totalCost"),
    ("decimal-as-boolean", {"totalCost": True}, "properties.totalCost"),
    ("decimal-as-object", {"totalCost": {"amount": 1}}, "properties.totalCost"),
    ("unknown-field", {"colour": "red"}, "properties.colour"),
    ("field-wrong-case", {"TotalCost": 1}, "properties.TotalCost"),
    ("list-as-object", {"itemsInCart": {"itemId": 1}}, "properties.itemsInCart"),
    ("list-of-scalars", {"itemsInCart": [1]}, "properties.itemsInCart[0]"),
    ("list-inside-list", {"itemsInCart": [{"itemId": 1}, [{"itemId": 2}]]}, "properties.itemsInCart[1]"),
    ("item-quantity-as-string", {"itemsInCart": [{}, {"quantity": "3"}]}, "properties.itemsInCart[1].quantity"),
    ("item-unknown-field", {"itemsInCart": [{"colour": "red"}]}, "properties.itemsInCart[0].colour"),
    ("item-nested-list", {"itemsInCart": [{"category": ["a"]}]}, "properties.itemsInCart[0].category"),
    (
        "datetime-no-zone",
        {"itemsInCart": [{"inStockSince": "2023-11-17T15:47:50"}]},
        "properties.itemsInCart[0].inStockSince",
    ),
    ("datetime-date-only", {"itemsInCart": [{"inStockSince": "2023-11-17"}]}, "properties.itemsInCart[0].inStockSince"),
    (
        "datetime-bad-month",
        {"itemsInCart": [{"inStockSince": "2023-13-17T15:47:50Z"}]},
        "properties.itemsInCart[0].inStockSince",
    ),
    (
        "datetime-bad-day",
        {"itemsInCart": [{"inStockSince": "2023-02-30T15:47:50Z"}]},
        "properties.itemsInCart[0].inStockSince",
    ),
    ("datetime-words", {"itemsInCart": [{"inStockSince": "yesterday"}]}, "properties.itemsInCart[0].inStockSince"),
    ("datetime-number", {"itemsInCart": [{"inStockSince": 1700000000}]}, "properties.itemsInCart[0].inStockSince"),
    (
        "datetime-space",
        {"itemsInCart": [{"inStockSince": "2023-11-17 15:47:50Z"}]},
        "properties.itemsInCart[0].inStockSince",
    ),
]


@pytest.mark.parametrize(
    ("properties", "path"),
    [(properties, path) for _, properties, path in WRONG_PROPERTIES],
    ids=[name for name, _, _ in WRONG_PROPERTIES],
)
async def test_properties_not_matching_the_definition_get_400_keyed_by_path(
    send: Sender, state: MockState, properties: dict[str, Any], path: str
) -> None:
    errors = await validation_errors(send, json={"properties": properties})
    assert list(errors) == [path]
    assert state.store.events() == []


async def test_all_property_errors_are_reported_together(send: Sender) -> None:
    properties = {"totalCost": "x", "colour": 1, "itemsInCart": [{"price": "1"}, {"quantity": None, "price": []}]}
    errors = await validation_errors(send, json={"properties": properties})
    assert set(errors) == {
        "properties.totalCost",
        "properties.colour",
        "properties.itemsInCart[0].price",
        "properties.itemsInCart[1].price",
    }


async def test_query_and_body_errors_are_reported_together(send: Sender) -> None:
    errors = await validation_errors(send, identifier_type="email", json={"eventId": "", "properties": {"x": 1}})
    assert set(errors) == {"identifierType", "eventId", "properties.x"}


@pytest.mark.parametrize(
    "value",
    [
        "2023-11-17T15:47:50.4136517Z",
        "2023-11-17T15:47:50Z",
        "2023-11-17T15:47:50.413+02:00",
        "2023-11-17T15:47:50-05:30",
        "2023-11-17T15:47:50.123456789Z",
    ],
)
async def test_valid_datetimes_are_accepted(send: Sender, value: str) -> None:
    assert (await send(json={"properties": {"itemsInCart": [{"inStockSince": value}]}})).status_code == 201


@pytest.mark.parametrize(
    "value", [0, -1.5, 1e300, 10**40, 2.5], ids=["zero", "negative-fraction", "huge-float", "huge-int", "fraction"]
)
async def test_decimal_accepts_any_number(send: Sender, value: float) -> None:
    assert (await send(json={"properties": {"totalCost": value}})).status_code == 201


async def test_null_property_counts_as_absent(send: Sender) -> None:
    properties = {"totalCost": None, "itemsInCart": [{"price": None}]}
    response = await send(json={"properties": properties})
    assert response.status_code == 201
    assert response.json()["properties"] == properties


@pytest.fixture
def typed_definition(state: MockState) -> None:
    """A definition with one field of every type, in account A."""
    state.store.put_definition(
        "A",
        compile_definition(
            {
                "definitionId": "allTypes",
                "title": "All types",
                "fields": [
                    {"name": "s", "type": "String"},
                    {"name": "b", "type": "Boolean"},
                    {"name": "d", "type": "DateTime"},
                    {"name": "n", "type": "Numeric"},
                    {"name": "m", "type": "Decimal"},
                    {
                        "name": "l",
                        "type": "List",
                        "schema": {"type": "Object", "fields": [{"name": "n", "type": "Numeric"}]},
                    },
                ],
            }
        ),
    )


@pytest.mark.usefixtures("typed_definition")
@pytest.mark.parametrize(
    ("properties", "accepted"),
    [
        ({"n": 3}, True),
        ({"n": 3.0}, True),
        ({"n": -(10**30)}, True),
        ({"n": 3.5}, False),
        ({"n": "3"}, False),
        ({"n": False}, False),
        ({"l": [{"n": 1}, {"n": 2.0}]}, True),
        ({"l": [{"n": 1.25}]}, False),
        ({"s": "", "b": False, "d": "2024-01-01T00:00:00Z", "m": 0.1}, True),
    ],
    ids=["int", "integral-float", "huge-negative", "fraction", "string", "boolean", "list-ok", "list-fraction", "all"],
)
async def test_numeric_is_a_whole_number(send: Sender, properties: dict[str, Any], accepted: bool) -> None:
    response = await send(definition_id="allTypes", json={"properties": properties})
    assert response.status_code == (201 if accepted else 400)


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ([{"name": "a", "type": "String"}, {"name": "A", "type": "String"}], "fields[1].name"),
        (
            [
                {
                    "name": "a",
                    "type": "List",
                    "schema": {"type": "Object", "fields": [{"name": "x", "type": "String"}]},
                },
                {
                    "name": "b",
                    "type": "List",
                    "schema": {"type": "Object", "fields": [{"name": "x", "type": "String"}]},
                },
            ],
            "fields",
        ),
        (
            [
                {
                    "name": "a",
                    "type": "List",
                    "schema": {
                        "type": "Object",
                        "fields": [{"name": "x", "type": "String"}, {"name": "X", "type": "Boolean"}],
                    },
                }
            ],
            "fields[0].schema.fields[1].name",
        ),
    ],
    ids=["duplicate-names", "two-lists", "duplicate-item-names"],
)
def test_compile_definition_rejects_what_json_schema_cannot(fields: list[dict[str, Any]], path: str) -> None:
    with pytest.raises(DefinitionError) as raised:
        compile_definition({"definitionId": "bad", "title": "Bad", "fields": fields})
    assert path in raised.value.errors
