"""The bare generated client builds the exact raw request the spec describes and parses the seed response."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from people_events_client import AuthenticatedClient, EventProperties, EventRequest, EventResponse, IdentifierType
from people_events_client.api.events import send_custom_event
from people_events_client.types import UNSET

from .reference import official_identifier_types, seed_identifier_types
from .spec import SEND_EVENT_PATH, identifier_types, same_event, seed_request_example, seed_response_example

BASE_URL = "https://api.infobip.com"
DEFINITION = str(seed_response_example()["definitionId"])
#: Identifier types the live API accepts that the seed does not document.
LIVE_ONLY_TYPES = [value for value in official_identifier_types() if value not in seed_identifier_types()]


@pytest.fixture
def client() -> AuthenticatedClient:
    return AuthenticatedClient(base_url=BASE_URL, token="test-api-key", prefix="App")


@pytest.fixture
def created() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as router:
        router.post(path__startswith="/").mock(return_value=httpx.Response(201, json=seed_response_example()))
        yield router


@pytest.mark.parametrize(
    ("person_id", "raw_person"),
    [
        ("john+doe@example.com", "john%2Bdoe%40example.com"),
        ("+385 91 234", "%2B385%2091%20234"),
        ("a/b?c#d", "a%2Fb%3Fc%23d"),
        ("1001", "1001"),
    ],
    ids=["email-plus-at", "phone-plus-space", "slash-query-fragment", "plain-id"],
)
def test_raw_request_encodes_ids_and_sends_query_and_auth(
    client: AuthenticatedClient, created: respx.MockRouter, person_id: str, raw_person: str
) -> None:
    identifier_type = IdentifierType(identifier_types()[0])
    send_custom_event.sync_detailed(person_id, DEFINITION, client=client, identifier_type=identifier_type)
    request = created.calls.last.request
    assert request.method == "POST"
    assert request.url.raw_path.decode() == (
        SEND_EVENT_PATH.format(personId=raw_person, definitionId=DEFINITION)
        + f"?identifierType={identifier_type.value}&createPerson=false"
    )
    assert request.headers["Authorization"] == "App test-api-key"


@pytest.mark.parametrize("identifier_type", LIVE_ONLY_TYPES)
def test_identifier_types_only_the_live_api_documents_are_sent(
    client: AuthenticatedClient, created: respx.MockRouter, identifier_type: str
) -> None:
    send_custom_event.sync_detailed("p-1", DEFINITION, client=client, identifier_type=IdentifierType(identifier_type))
    assert created.calls.last.request.url.params["identifierType"] == identifier_type


def test_create_person_true_is_sent_as_lower_case_true(client: AuthenticatedClient, created: respx.MockRouter) -> None:
    identifier_type = IdentifierType(identifier_types()[0])
    send_custom_event.sync_detailed(
        "p-1", DEFINITION, client=client, identifier_type=identifier_type, create_person=True
    )
    assert created.calls.last.request.url.params["createPerson"] == "true"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (UNSET, None),
        (EventRequest(properties=None), {"properties": None}),
        (
            EventRequest(properties=EventProperties.from_dict(seed_request_example()["properties"])),
            seed_request_example(),
        ),
    ],
    ids=["body-absent", "properties-null", "seed-sample"],
)
def test_json_body(
    client: AuthenticatedClient, created: respx.MockRouter, body: EventRequest, expected: object
) -> None:
    identifier_type = IdentifierType(identifier_types()[0])
    send_custom_event.sync_detailed("1001", DEFINITION, client=client, identifier_type=identifier_type, body=body)
    request = created.calls.last.request
    if expected is None:
        assert request.content == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == expected


def test_seed_response_sample_parses(client: AuthenticatedClient, created: respx.MockRouter) -> None:
    identifier_type = IdentifierType(identifier_types()[0])
    response = send_custom_event.sync_detailed("1001", DEFINITION, client=client, identifier_type=identifier_type)
    assert isinstance(response.parsed, EventResponse)
    assert same_event(seed_response_example(), response.parsed.to_dict())


def test_generated_client_repr_hides_the_token() -> None:
    client = AuthenticatedClient(base_url=BASE_URL, token="very-secret-key", prefix="App")
    client = client.with_headers({"X-Trace": "1"})
    assert "very-secret-key" not in repr(client)
