"""The client's side of the contract, with respx in place of a server: every identifier type builds the raw
request openapi.yaml describes, and every documented status parses or raises its typed error.

The canned responses are openapi.yaml's own examples (the 201's `seed` example, each error status's example, with
its documented headers' examples), so a status documented tomorrow is covered without an edit here; each is
validated against the spec's schema for its status before it is served. Responses the spec does not document (a
proxy's HTML 502, an empty 503, 499, 520...) are labelled as such and not validated. Retries run on an injected
clock and sleep: nothing waits.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import pytest
import respx

from people_events_client import (
    AsyncPeopleEvents,
    BasicAuth,
    BearerToken,
    EventResponse,
    IBSSOToken,
    PeopleEvents,
    PeopleEventsError,
)
from tests.support.clock import FakeClock
from tests.support.respx_router import BASE_URL

from .outcomes import expected_attempts, expected_error
from .probe import parse_retry_after
from .spec import (
    documented_statuses,
    echo_event_id,
    event_path,
    identifier_types,
    query_parameter_errors,
    request_body_errors,
    response_errors,
    same_event,
    seed_properties,
    seed_response_example,
    send_event_operation,
)

API_KEY: Final = "contract-test-key"
DEFINITION: Final = str(seed_response_example()["definitionId"])
PERSON: Final = "person-1001"
EVENT_ID: Final = "order-1001-cart-1"
MAX_RETRIES: Final = 3

Auth = BasicAuth | BearerToken | IBSSOToken


@dataclass(frozen=True)
class Canned:
    """A response for respx to serve. A documented one is checked against openapi.yaml whenever it is served."""

    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    documented: bool = True

    def body(self) -> Any:
        return json.loads(self.content)

    def response(self, request: httpx.Request) -> httpx.Response:
        """The canned response to `request`; a documented 201 records the eventId the request sent."""
        if self.documented:
            problems = response_errors(self.status, self.headers, self.content)
            if problems:
                pytest.fail(f"canned {self.status} has drifted from openapi.yaml: {'; '.join(problems)}")
            body = echo_event_id(self.status, self.body(), request)
            return httpx.Response(self.status, headers=self.headers, content=json.dumps(body).encode())
        return httpx.Response(self.status, headers=self.headers, content=self.content)


def _json(status: int, body: object, *, documented: bool = True, headers: dict[str, str] | None = None) -> Canned:
    return Canned(
        status, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}, documented
    )


def documented_response(status: int) -> Canned:
    """openapi.yaml's example of `status` (the `seed` example of the 201), with its headers' examples."""
    response = send_event_operation()["responses"][str(status)]
    media = response["content"]["application/json"]
    example = media["examples"]["seed"]["value"] if "examples" in media else media["example"]
    headers = {name: str(header["example"]) for name, header in response.get("headers", {}).items()}
    return _json(status, example, headers=headers)


ERROR_STATUSES: Final = [status for status in documented_statuses() if status >= 400]


def _undocumented(start: int) -> int:
    """The first status from `start` up that openapi.yaml does not document."""
    return next(status for status in range(start, start + 100) if status not in documented_statuses())


_HTML_502: Final = b"<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
_ENVELOPE_4XX: Final = {"requestError": {"serviceException": {"messageId": "CONFLICT", "text": "Conflict"}}}
#: Responses outside the contract that real networks produce: (id, response).
UNDOCUMENTED: Final = [
    ("html-proxy-page", Canned(_undocumented(502), _HTML_502, {"Content-Type": "text/html"}, False)),
    ("empty-body-5xx", Canned(_undocumented(503), documented=False)),
    ("unknown-5xx", Canned(_undocumented(520), documented=False)),
    ("429-without-retry-after", Canned(429, documented=False)),
    ("enveloped-4xx", _json(_undocumented(409), _ENVELOPE_4XX, documented=False)),
    ("plain-text-4xx", Canned(_undocumented(499), b"client closed", {"Content-Type": "text/plain"}, False)),
]


Send = Callable[..., EventResponse]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sync", "async"])
def send(request: pytest.FixtureRequest, clock: FakeClock) -> Send:
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


def _serve(api: respx.MockRouter, canned: Canned) -> respx.Route:
    return api.post(path__startswith="/").mock(side_effect=canned.response)


@pytest.mark.parametrize("identifier_type", identifier_types())
def test_each_identifier_type_builds_the_documented_request(
    api: respx.MockRouter, send: Send, identifier_type: str
) -> None:
    """Path ids percent-encoded, identifierType and createPerson=false in the query, `App` credentials, and a
    JSON body that openapi.yaml's EventRequest accepts, with a generated eventId."""
    route = _serve(api, documented_response(201))
    person_id = f"{identifier_type.lower()}+1@example/1"
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


def test_create_person_is_sent_as_documented(api: respx.MockRouter, send: Send) -> None:
    """create_person=True sends createPerson=true, a boolean the spec's query schema accepts."""
    route = _serve(api, documented_response(201))
    send(PERSON, DEFINITION, identifier_type=identifier_types()[0], create_person=True)
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
    route = _serve(api, documented_response(201))
    send(PERSON, DEFINITION, identifier_type=identifier_types()[0], auth=auth)
    assert route.calls.last.request.headers["Authorization"] == header


def test_the_201_example_comes_back_as_the_event(api: respx.MockRouter, send: Send) -> None:
    """The spec's 201 example returns the event it records, after one attempt."""
    canned = documented_response(201)
    route = _serve(api, canned)
    event = send(PERSON, DEFINITION, identifier_type=identifier_types()[0], event_id=canned.body()["eventId"])
    assert same_event(canned.body(), event.to_dict())
    assert route.call_count == 1


@pytest.mark.parametrize("status", ERROR_STATUSES, ids=[str(status) for status in ERROR_STATUSES])
def test_documented_error_raises_its_typed_error(
    api: respx.MockRouter, send: Send, clock: FakeClock, status: int
) -> None:
    """Every documented error status (its example from openapi.yaml) raises its class, carrying the status,
    Infobip's messageId and text, validationErrors, Retry-After and the eventId sent; 429 and 5xx after every
    retry, waiting Retry-After when given."""
    canned = documented_response(status)
    route = _serve(api, canned)
    with pytest.raises(PeopleEventsError) as raised:
        send(PERSON, DEFINITION, identifier_type=identifier_types()[0], event_id=EVENT_ID)
    err = raised.value
    details = canned.body()["requestError"]["serviceException"]
    assert type(err) is expected_error(status)
    assert (err.status, err.message_id, err.text) == (status, details["messageId"], details["text"])
    assert err.validation_errors == details.get("validationErrors", {})
    assert err.event_id == EVENT_ID
    assert route.call_count == expected_attempts(status, MAX_RETRIES)
    retry_after = parse_retry_after(canned.headers.get("Retry-After"))
    assert err.retry_after == retry_after
    if retry_after is not None:
        assert clock.sleeps == [retry_after] * MAX_RETRIES


@pytest.mark.parametrize(("canned"), [canned for _, canned in UNDOCUMENTED], ids=[name for name, _ in UNDOCUMENTED])
def test_undocumented_response_raises_a_typed_error(api: respx.MockRouter, send: Send, canned: Canned) -> None:
    """A response outside the contract (HTML, empty, unknown status) still raises the typed error for its status
    class, never JSONDecodeError or ValueError; 429 and 5xx after every retry."""
    route = _serve(api, canned)
    with pytest.raises(PeopleEventsError) as raised:
        send(PERSON, DEFINITION, identifier_type=identifier_types()[0])
    assert type(raised.value) is expected_error(canned.status)
    assert raised.value.status == canned.status
    assert route.call_count == expected_attempts(canned.status, MAX_RETRIES)
