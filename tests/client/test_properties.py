"""Property-based safety of the facade (hypothesis): ids never re-target a request, and no response escapes untyped."""

from __future__ import annotations

import asyncio
import json
import math
import re
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people_events_client import (
    AsyncPeopleEvents,
    BadRequest,
    EventResponse,
    NotFound,
    PeopleEvents,
    PeopleEventsError,
    RateLimited,
    ServerError,
    TransportError,
)
from tests.support.clock import FakeClock
from tests.support.respx_router import API_KEY, BASE_URL
from tests.support.spec import documented_statuses

PREFIX = ["peopleevents", "2", "persons"]
DOCUMENTED_STATUSES = documented_statuses()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


def created_for(request: httpx.Request) -> bytes:
    """A 201 body recording the event the request sent."""
    event_id = json.loads(request.content)["eventId"]
    return json.dumps({"eventId": event_id, "definitionId": "d", "occurredTime": "2026-11-26T12:00:00Z"}).encode()


class Recorder:
    """Answers every request with one status and body (a 201 echoes the sent event unless a body is given)."""

    def __init__(self, status: int = 201, content: bytes | None = None, headers: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.status, self.content, self.headers = status, content, headers or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        content = created_for(request) if self.content is None else self.content
        return httpx.Response(self.status, content=content, headers=self.headers)


def facade(recorder: Recorder, kind: str = "sync", clock: FakeClock | None = None) -> PeopleEvents | AsyncPeopleEvents:
    clock = clock or FakeClock()
    facade_class = PeopleEvents if kind == "sync" else AsyncPeopleEvents
    return facade_class(
        BASE_URL,
        API_KEY,
        rate_limit=None,
        max_retries=1,
        http_client_args={"transport": httpx.MockTransport(recorder)},
        _sleep=clock.sleep if kind == "sync" else clock.asleep,
        _clock=clock,
    )


def send(people: PeopleEvents | AsyncPeopleEvents, *args: Any, **options: Any) -> EventResponse:
    if isinstance(people, PeopleEvents):
        return people.send(*args, **options)
    return asyncio.run(people.send(*args, **options))


# Any code point, lone surrogates included (st.text() leaves them out by default).
any_text = st.text(st.characters(exclude_categories=()), max_size=300)
ids = any_text | st.sampled_from(["", ".", "..", "%2e%2e", "a/b", "a%2Fb", "\r\n", "ａ／ｂ", "a\ud800", "?#", " "])
# What a raw path may hold (RFC 3986 pchar, plus "/"): no CR, LF, space, "?", "#" or non-ASCII byte.
PCHARS = re.compile(rb"[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*")


def _invalid_id(value: str, max_length: int) -> bool:
    return value in {"", ".", ".."} or len(value) > max_length or any("\ud800" <= c <= "\udfff" for c in value)


@KINDS
@SETTINGS
@given(
    person_id=ids,
    definition_id=st.text(st.characters(exclude_categories=()), max_size=40) | st.sampled_from([".", "..", "%2F"]),
)
def test_path_has_exactly_the_endpoint_segments_or_value_error_before_io(
    kind: str, person_id: str, definition_id: str
) -> None:
    recorder = Recorder()
    invalid = _invalid_id(person_id, 256) or _invalid_id(definition_id, 36)
    try:
        send(facade(recorder, kind), person_id, definition_id, identifier_type="ID")
    except ValueError:
        assert not recorder.requests
        assert invalid
        return
    assert not invalid
    (request,) = recorder.requests
    assert PCHARS.fullmatch(request.url.raw_path.split(b"?")[0])
    segments = request.url.raw_path.split(b"?")[0].decode("ascii").split("/")
    assert segments[0] == ""
    assert segments[1:4] == PREFIX
    assert segments[5] == "definitions"
    assert segments[7] == "events"
    assert len(segments) == 8
    assert unquote(segments[4], errors="strict") == person_id
    assert unquote(segments[6], errors="strict") == definition_id


@KINDS
@SETTINGS
@given(
    status=st.sampled_from([*DOCUMENTED_STATUSES, 200, 302, 409, 499, 502, 503, 520, 599]),
    body=st.binary(max_size=300),
    retry_after=st.none() | st.text(max_size=30),
)
def test_any_status_and_body_gives_an_event_or_a_typed_error(
    kind: str, status: int, body: bytes, retry_after: str | None
) -> None:
    printable = retry_after is not None and retry_after.isascii() and retry_after.isprintable()
    headers = {"Retry-After": retry_after} if printable and retry_after else {}
    try:
        outcome = send(facade(Recorder(status, body, headers), kind), "1001", "addToCart", identifier_type="ID")
    except PeopleEventsError as err:
        assert err.status == status
        assert err.event_id is not None
    else:
        assert status == 201
        assert isinstance(outcome, EventResponse)


@KINDS
@pytest.mark.parametrize("body", [b'{"requestError": {"serviceException": "x"}}', b"[" * 5000, b"\xff\xfe"],
                         ids=["odd-envelope", "deep-nesting", "invalid-utf8"])  # fmt: skip
def test_hostile_error_bodies_still_give_the_typed_error(kind: str, body: bytes) -> None:
    with pytest.raises(PeopleEventsError) as caught:
        send(facade(Recorder(400, body), kind), "1001", "addToCart", identifier_type="ID")
    assert caught.value.status == 400


# JSON values of any shape, and bodies that look like the documents the facade parses.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
event_bodies = st.fixed_dictionaries(
    {"eventId": st.from_regex(r"[A-Za-z0-9_-]{1,36}", fullmatch=True), "definitionId": st.text(min_size=1, max_size=36),
     "occurredTime": st.sampled_from(["2026-11-26T12:00:00Z", "2026-11-26T12:00:00.123456Z"])},
    optional={"properties": st.none() | st.dictionaries(st.text(max_size=10), json_values, max_size=3),
              "metadata": st.dictionaries(st.text(max_size=10), json_values, max_size=2)},
)  # fmt: skip
envelopes = st.builds(
    lambda details: {"requestError": {"serviceException": details}},
    st.dictionaries(st.sampled_from(["messageId", "text", "validationErrors"]), json_values, max_size=3),
)


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


@KINDS
@SETTINGS
@given(
    status=st.sampled_from([*DOCUMENTED_STATUSES, 409, 502, 599]),
    document=event_bodies | envelopes | json_values,
)
def test_any_json_document_on_any_status_gives_an_event_or_a_typed_error(kind: str, status: int, document: Any) -> None:
    """JSON-shaped bodies, not just random bytes: a well-formed EventResponse for the sent eventId on a 201 comes
    back as the event; any other document on any status is a PeopleEventsError with that status."""
    event_id = document["eventId"] if isinstance(document, dict) and "definitionId" in document else None
    try:
        outcome = send(
            facade(Recorder(status, _encode(document)), kind), "1001", "addToCart", identifier_type="ID",
            event_id=event_id,
        )  # fmt: skip
    except PeopleEventsError as err:
        assert err.status == status
        return
    assert status == 201
    assert isinstance(outcome, EventResponse)
    assert outcome.event_id == document["eventId"]


hostile_scalars = st.sampled_from([math.nan, math.inf, -math.inf, "\ud800", b"bytes", {1, 2}, object()])
properties = st.dictionaries(st.text(max_size=8), json_values | hostile_scalars, max_size=4)


@KINDS
def test_properties_may_be_any_mapping(kind: str) -> None:
    recorder = Recorder()
    send(
        facade(recorder, kind), "1001", "addToCart", identifier_type="ID", properties=MappingProxyType({"totalCost": 1})
    )
    assert json.loads(recorder.requests[0].content)["properties"] == {"totalCost": 1}


@KINDS
@SETTINGS
@given(props=properties)
def test_any_properties_are_sent_as_strict_json_or_refused_before_io(kind: str, props: dict[str, Any]) -> None:
    """Properties that strict JSON cannot carry (NaN, Infinity, lone surrogates, non-JSON types) raise ValueError
    before any I/O; all others arrive as the same JSON."""
    recorder = Recorder()
    try:
        send(facade(recorder, kind), "1001", "addToCart", identifier_type="ID", properties=props)
    except ValueError:
        assert not recorder.requests
        with pytest.raises((ValueError, TypeError)):
            json.dumps(props, allow_nan=False, ensure_ascii=False).encode("utf-8")
        return
    (request,) = recorder.requests
    assert json.loads(request.content)["properties"] == json.loads(json.dumps(props))


Outcome = int | type[httpx.TransportError]
TRANSPORT_ERRORS: list[type[httpx.TransportError]] = [
    httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.LocalProtocolError,
]  # fmt: skip
EXPECTED_CLASS = {400: BadRequest, 404: NotFound, 429: RateLimited, 500: ServerError, 503: ServerError}


def _model(outcomes: list[Outcome], max_retries: int) -> tuple[type[PeopleEventsError] | None, int]:
    """What the facade should do with these attempt outcomes, then 201s: (error class or None, attempts)."""
    attempts = max_retries + 1
    for number, outcome in enumerate([*outcomes, *[201] * attempts][:attempts], start=1):
        if outcome == 201:
            return None, number
        retryable = outcome in (429, 500, 503) or (
            isinstance(outcome, type) and outcome is not httpx.LocalProtocolError
        )
        if not retryable or number == attempts:
            error = TransportError if isinstance(outcome, type) else EXPECTED_CLASS[outcome]
            return error, number
    raise AssertionError("unreachable")


@KINDS
@SETTINGS
@given(
    outcomes=st.lists(st.sampled_from([201, 400, 404, 429, 500, 503, *TRANSPORT_ERRORS]), min_size=1, max_size=6),
    max_retries=st.integers(0, 4),
)
def test_retry_sequences_follow_the_policy_and_keep_one_event_id(
    kind: str, outcomes: list[Outcome], max_retries: int
) -> None:
    """Any sequence of attempt outcomes: the facade retries exactly the retryable ones, at most max_retries times,
    ends with an event or the typed error of the last outcome, and sends one eventId on every attempt."""
    requests: list[httpx.Request] = []
    queue = list(outcomes)

    def respond(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        outcome = queue.pop(0) if queue else 201
        if isinstance(outcome, type):
            raise outcome("injected", request=request)
        error = b'{"requestError":{"serviceException":{"messageId":"X","text":"t"}}}'
        return httpx.Response(outcome, content=created_for(request) if outcome == 201 else error)

    clock = FakeClock()
    facade_class = PeopleEvents if kind == "sync" else AsyncPeopleEvents
    people = facade_class(BASE_URL, API_KEY, rate_limit=None, max_retries=max_retries, _clock=clock,
                          _sleep=clock.sleep if kind == "sync" else clock.asleep,
                          http_client_args={"transport": httpx.MockTransport(respond)})  # fmt: skip
    expected_error, expected_attempts = _model(outcomes, max_retries)
    try:
        send(people, "1001", "addToCart", identifier_type="ID")
    except PeopleEventsError as err:
        assert type(err) is expected_error
        assert err.event_id is not None
    else:
        assert expected_error is None
    assert len(requests) == expected_attempts
    assert len({json.loads(request.content)["eventId"] for request in requests}) == 1
