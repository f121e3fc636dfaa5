"""The client's side of the contract, with respx in place of a server: every identifier type builds the raw
request openapi.yaml describes, and every documented status parses or raises its typed error.

Every canned response that a test serves is validated against openapi.yaml's response schema for its
status (media type, body, required headers) before it is used, so the canned data cannot drift from the
spec. Responses the spec does not document (a proxy's HTML 502, an empty 503, 499, 520...) are labelled
as such and not validated. Retries run on an injected clock and sleep: nothing waits.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import httpx
import pytest
import respx

from people_events_client import (
    AsyncPeopleEvents,
    BadRequest,
    BasicAuth,
    BearerToken,
    EventResponse,
    Forbidden,
    IBSSOToken,
    NotFound,
    PeopleEvents,
    PeopleEventsError,
    RateLimited,
    ServerError,
    Unauthorized,
)
from people_events_client.auth import Auth

from .spec import (
    documented_statuses,
    event_path,
    identifier_types,
    load_spec,
    query_parameter_errors,
    request_body_errors,
    response_errors,
)
from .targets import mock_seeds, seed_properties

BASE_URL: Final = load_spec()["servers"][0]["url"]
API_KEY: Final = "contract-test-key"
DEFINITION: Final = "addToCart"
MAX_RETRIES: Final = 3
PERSONS: Final = dict(mock_seeds().persons)
CREATABLE: Final = ("PHONE", "EMAIL", "EXTERNAL_ID")


@dataclass(frozen=True)
class Canned:
    """A response for respx to serve. A documented one is checked against openapi.yaml whenever it is served."""

    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    documented: bool = True

    def body(self) -> Any:
        return json.loads(self.content)

    def response(self) -> httpx.Response:
        if self.documented:
            problems = response_errors(self.status, self.headers, self.content)
            if problems:
                pytest.fail(f"canned {self.status} has drifted from openapi.yaml: {'; '.join(problems)}")
        return httpx.Response(self.status, headers=self.headers, content=self.content)


def _json(status: int, body: object, *, documented: bool = True, headers: dict[str, str] | None = None) -> Canned:
    return Canned(
        status, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}, documented
    )


def _envelope(message_id: str, text: str, validation_errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"messageId": message_id, "text": text}
    if validation_errors:
        details["validationErrors"] = validation_errors
    return {"requestError": {"serviceException": details}}


CREATED_EVENT: Final = {
    "eventId": "order-1001-cart-1",
    "definitionId": DEFINITION,
    "occurredTime": "2024-05-17T15:47:50.413915Z",
    "properties": {"transactionId": "my-transaction-1", "totalCost": 100, "itemsInCart": [{"itemId": 1}]},
    "metadata": {"source": "API"},
}
#: One canned response per documented status.
DOCUMENTED: Final = {
    201: _json(201, CREATED_EVENT),
    400: _json(
        400, _envelope("BAD_REQUEST", "Bad request", {"properties.itemsInCart[0].quantity": ["must be a number"]})
    ),
    401: _json(401, _envelope("UNAUTHORIZED", "Unauthorized")),
    403: _json(403, _envelope("FORBIDDEN", "Forbidden: the credentials lack the people:manage scope")),
    404: _json(404, _envelope("NOT_FOUND", "Person not found")),
    413: _json(413, _envelope("PAYLOAD_TOO_LARGE", "Request body is larger than 512000 bytes")),
    415: _json(415, _envelope("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be a JSON media type")),
    429: _json(429, _envelope("TOO_MANY_REQUESTS", "Too many requests"), headers={"Retry-After": "2"}),
    500: _json(500, _envelope("GENERAL_ERROR", "Something went wrong. Please contact support.")),
}
#: (status, class raised, attempts made) for each documented status; 201 returns the event.
DOCUMENTED_OUTCOMES: Final = [
    (201, None, 1),
    (400, BadRequest, 1),
    (401, Unauthorized, 1),
    (403, Forbidden, 1),
    (404, NotFound, 1),
    (413, PeopleEventsError, 1),
    (415, PeopleEventsError, 1),
    (429, RateLimited, MAX_RETRIES + 1),
    (500, ServerError, MAX_RETRIES + 1),
]
_HTML_502: Final = b"<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
#: Responses outside the contract that real networks produce: (id, response, class raised, attempts made).
UNDOCUMENTED_OUTCOMES: Final = [
    ("502-html-proxy-page", Canned(502, _HTML_502, {"Content-Type": "text/html"}, False), ServerError, 4),
    ("503-empty-body", Canned(503, documented=False), ServerError, MAX_RETRIES + 1),
    ("520-unknown-5xx", Canned(520, documented=False), ServerError, MAX_RETRIES + 1),
    ("429-without-retry-after", Canned(429, documented=False), RateLimited, MAX_RETRIES + 1),
    ("409-enveloped", _json(409, _envelope("CONFLICT", "Conflict"), documented=False), PeopleEventsError, 1),
    ("499-unknown-4xx", Canned(499, b"client closed", {"Content-Type": "text/plain"}, False), PeopleEventsError, 1),
]


class InstantClock:
    """A monotonic clock that moves only when the client sleeps; the sleeps are recorded, never waited."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


Send = Callable[..., EventResponse]


@pytest.fixture
def clock() -> InstantClock:
    return InstantClock()


@pytest.fixture(params=["sync", "async"])
def send(request: pytest.FixtureRequest, clock: InstantClock) -> Send:
    """``send(person_id, definition_id, **send_keywords)`` through PeopleEvents or AsyncPeopleEvents; ``api_key=``
    or ``auth=`` choose the credential (default: API_KEY)."""
    flavour: str = request.param

    def call(*args: Any, api_key: str | None = API_KEY, auth: Auth | None = None, **kwargs: Any) -> EventResponse:
        key = None if auth is not None else api_key
        options: dict[str, Any] = {"auth": auth, "rate_limit": None, "max_retries": MAX_RETRIES, "_clock": clock}
        if flavour == "sync":
            with PeopleEvents(BASE_URL, key, _sleep=clock.sleep, **options) as people:
                return people.send(*args, **kwargs)

        async def go() -> EventResponse:
            async with AsyncPeopleEvents(BASE_URL, key, _sleep=clock.asleep, **options) as people:
                return await people.send(*args, **kwargs)

        return asyncio.run(go())

    return call


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


def _serve(api: respx.MockRouter, canned: Canned) -> respx.Route:
    return api.post(path__startswith="/peopleevents/2/persons/").mock(side_effect=lambda request: canned.response())


def test_every_documented_status_has_a_canned_response() -> None:
    """The tables below cover exactly the statuses openapi.yaml documents."""
    assert sorted(DOCUMENTED) == list(documented_statuses())
    assert [status for status, _, _ in DOCUMENTED_OUTCOMES] == list(documented_statuses())


@pytest.mark.parametrize("identifier_type", identifier_types())
def test_each_identifier_type_builds_the_documented_request(
    api: respx.MockRouter, send: Send, identifier_type: str
) -> None:
    """Path ids percent-encoded, identifierType and createPerson=false in the query, `App` credentials, and a
    JSON body that openapi.yaml's EventRequest accepts, with a generated eventId."""
    route = _serve(api, DOCUMENTED[201])
    person_id = PERSONS[identifier_type]
    send(person_id, DEFINITION, identifier_type=identifier_type, properties=seed_properties())
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.url.raw_path.decode() == (
        f"{event_path(person_id, DEFINITION)}?identifierType={identifier_type}&createPerson=false"
    )
    assert query_parameter_errors("identifierType", request.url.params["identifierType"]) == []
    assert request.headers["Authorization"] == f"App {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.content)
    assert request_body_errors(body) == []
    assert body["properties"] == seed_properties()
    assert isinstance(body["eventId"], str)


@pytest.mark.parametrize("identifier_type", CREATABLE)
def test_create_person_is_sent_as_documented(api: respx.MockRouter, send: Send, identifier_type: str) -> None:
    """create_person=True sends createPerson=true, a boolean the spec's query schema accepts."""
    route = _serve(api, DOCUMENTED[201])
    send(PERSONS[identifier_type], DEFINITION, identifier_type=identifier_type, create_person=True)
    params = route.calls.last.request.url.params
    assert params["createPerson"] == "true"
    assert query_parameter_errors("createPerson", True) == []


@pytest.mark.parametrize(
    ("auth", "header"),
    [
        (None, f"App {API_KEY}"),
        (BasicAuth("user", "pass"), "Basic " + base64.b64encode(b"user:pass").decode()),
        (IBSSOToken("sso-token"), "IBSSO sso-token"),
        (BearerToken("oauth-token"), "Bearer oauth-token"),
    ],
    ids=["APIKeyHeader", "Basic", "IBSSOTokenHeader", "OAuth2"],
)
def test_each_security_scheme_is_sent_as_declared(
    api: respx.MockRouter, send: Send, auth: Auth | None, header: str
) -> None:
    """Each of the spec's four security schemes becomes its Authorization header."""
    route = _serve(api, DOCUMENTED[201])
    send("1001", DEFINITION, identifier_type="ID", auth=auth)
    assert route.calls.last.request.headers["Authorization"] == header


@pytest.mark.parametrize(
    ("status", "error", "attempts"), DOCUMENTED_OUTCOMES, ids=[str(s) for s, _, _ in DOCUMENTED_OUTCOMES]
)
def test_documented_status_parses_or_raises_its_typed_error(
    api: respx.MockRouter,
    send: Send,
    clock: InstantClock,
    status: int,
    error: type[PeopleEventsError] | None,
    attempts: int,
) -> None:
    """201 returns the event as the body records it; every other documented status raises its class, carrying
    the status, Infobip's messageId and text, validationErrors, Retry-After and the eventId sent."""
    canned = DOCUMENTED[status]
    route = _serve(api, canned)
    if error is None:
        event = send("1001", DEFINITION, identifier_type="ID", event_id="order-1001-cart-1")
        recorded = canned.body()
        assert event.occurred_time == datetime.fromisoformat(recorded.pop("occurredTime"))
        assert {**event.to_dict(), "occurredTime": None} == {**recorded, "occurredTime": None}
        assert route.call_count == attempts
        return
    with pytest.raises(error) as raised:
        send("1001", DEFINITION, identifier_type="ID", event_id="order-1001-cart-1")
    err = raised.value
    details = canned.body()["requestError"]["serviceException"]
    assert type(err) is error
    assert (err.status, err.message_id, err.text) == (status, details["messageId"], details["text"])
    assert err.validation_errors == details.get("validationErrors", {})
    assert err.event_id == "order-1001-cart-1"
    assert route.call_count == attempts
    if status == 429:
        assert err.retry_after == 2.0
        assert clock.sleeps == [2.0] * MAX_RETRIES


@pytest.mark.parametrize(
    ("canned", "error", "attempts"),
    [outcome[1:] for outcome in UNDOCUMENTED_OUTCOMES],
    ids=[outcome[0] for outcome in UNDOCUMENTED_OUTCOMES],
)
def test_undocumented_response_raises_a_typed_error(
    api: respx.MockRouter, send: Send, canned: Canned, error: type[PeopleEventsError], attempts: int
) -> None:
    """A response outside the contract (HTML, empty, unknown status) still raises the typed error for its status
    class, never JSONDecodeError or ValueError; 429 and 5xx after every retry."""
    route = _serve(api, canned)
    with pytest.raises(PeopleEventsError) as raised:
        send("1001", DEFINITION, identifier_type="ID")
    assert type(raised.value) is error
    assert raised.value.status == canned.status
    assert route.call_count == attempts
