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

from .test_spec import seed_sample

BASE_URL = "https://api.infobip.com"
EVENTS = "/peopleevents/2/persons/{}/definitions/{}/events"


@pytest.fixture
def client() -> AuthenticatedClient:
    return AuthenticatedClient(base_url=BASE_URL, token="test-api-key", prefix="App")


@pytest.fixture
def created() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as router:
        router.post(path__startswith="/peopleevents/2/persons/").mock(
            return_value=httpx.Response(201, json=seed_sample("Response samples"))
        )
        yield router


@pytest.mark.parametrize(
    ("person_id", "identifier_type", "raw_person"),
    [
        ("john+doe@example.com", IdentifierType.EMAIL, "john%2Bdoe%40example.com"),
        ("+385 91 234", IdentifierType.PHONE, "%2B385%2091%20234"),
        ("a/b?c#d", IdentifierType.EXTERNAL_ID, "a%2Fb%3Fc%23d"),
        ("1001", IdentifierType.ID, "1001"),
        ("tiktok-1", IdentifierType.TIKTOK_BM, "tiktok-1"),
    ],
    ids=["email-plus-at", "phone-plus-space", "slash-query-fragment", "plain-id", "live-only-type"],
)
def test_raw_request_encodes_ids_and_sends_query_and_auth(
    client: AuthenticatedClient,
    created: respx.MockRouter,
    person_id: str,
    identifier_type: IdentifierType,
    raw_person: str,
) -> None:
    send_custom_event.sync_detailed(person_id, "addToCart", client=client, identifier_type=identifier_type)
    request = created.calls.last.request
    assert request.method == "POST"
    assert request.url.raw_path.decode() == (
        EVENTS.format(raw_person, "addToCart") + f"?identifierType={identifier_type.value}&createPerson=false"
    )
    assert request.headers["Authorization"] == "App test-api-key"


def test_create_person_true_is_sent_as_lower_case_true(client: AuthenticatedClient, created: respx.MockRouter) -> None:
    send_custom_event.sync_detailed(
        "41793026727", "addToCart", client=client, identifier_type=IdentifierType.PHONE, create_person=True
    )
    assert created.calls.last.request.url.params["createPerson"] == "true"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (UNSET, None),
        (EventRequest(properties=None), {"properties": None}),
        (
            EventRequest(properties=EventProperties.from_dict(seed_sample("Request samples")["properties"])),
            seed_sample("Request samples"),
        ),
    ],
    ids=["body-absent", "properties-null", "seed-sample"],
)
def test_json_body(
    client: AuthenticatedClient, created: respx.MockRouter, body: EventRequest, expected: object
) -> None:
    send_custom_event.sync_detailed("1001", "addToCart", client=client, identifier_type=IdentifierType.ID, body=body)
    request = created.calls.last.request
    if expected is None:
        assert request.content == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == expected


def test_seed_response_sample_parses(client: AuthenticatedClient, created: respx.MockRouter) -> None:
    response = send_custom_event.sync_detailed("1001", "addToCart", client=client, identifier_type=IdentifierType.ID)
    event = response.parsed
    assert isinstance(event, EventResponse)
    sample = seed_sample("Response samples")
    assert event.event_id == sample["eventId"]
    assert event.definition_id == "addToCart"
    assert event.occurred_time.isoformat().startswith("2024-05-17T15:47:50.413915")
    assert event.properties is not None
    assert not isinstance(event.properties, type(UNSET))
    assert event.to_dict()["properties"] == sample["properties"]
    assert event.to_dict()["metadata"] == {"source": "API"}


def test_generated_client_repr_hides_the_token() -> None:
    client = AuthenticatedClient(base_url=BASE_URL, token="very-secret-key", prefix="App")
    client = client.with_headers({"X-Trace": "1"})
    assert "very-secret-key" not in repr(client)
