"""Property-based safety of the facade (hypothesis): ids never re-target a request, and no response escapes untyped."""

from __future__ import annotations

from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people_events_client import EventResponse, PeopleEvents, PeopleEventsError

from .conftest import API_KEY, BASE_URL, FakeClock

PREFIX = ["peopleevents", "2", "persons"]
DOCUMENTED_STATUSES = [201, 400, 401, 403, 404, 413, 415, 429, 500]
CREATED = b'{"eventId":"E","definitionId":"d","occurredTime":"2026-11-26T12:00:00Z"}'
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Recorder:
    def __init__(self, status: int = 201, content: bytes = CREATED, headers: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.status, self.content, self.headers = status, content, headers or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, content=self.content, headers=self.headers)


def facade(recorder: Recorder, clock: FakeClock | None = None) -> PeopleEvents:
    clock = clock or FakeClock()
    return PeopleEvents(
        BASE_URL,
        API_KEY,
        rate_limit=None,
        max_retries=1,
        http_client_args={"transport": httpx.MockTransport(recorder)},
        _sleep=clock.sleep,
        _clock=clock,
    )


ids = st.text(min_size=0, max_size=300) | st.sampled_from(["", ".", "..", "%2e%2e", "a/b", "a%2Fb", "\r\n", "ａ／ｂ"])


@SETTINGS
@given(person_id=ids, definition_id=st.text(max_size=40) | st.sampled_from([".", "..", "%2F"]))
def test_path_has_exactly_the_endpoint_segments_or_value_error_before_io(person_id: str, definition_id: str) -> None:
    recorder = Recorder()
    try:
        facade(recorder).send(person_id, definition_id, identifier_type="ID")
    except ValueError:
        assert not recorder.requests
        assert (
            person_id in {"", ".", ".."}
            or definition_id in {"", ".", ".."}
            or (len(person_id) > 256 or len(definition_id) > 36)
        )
        return
    (request,) = recorder.requests
    segments = request.url.raw_path.split(b"?")[0].decode("ascii").split("/")
    assert segments[0] == ""
    assert segments[1:4] == PREFIX
    assert segments[5] == "definitions"
    assert segments[7] == "events"
    assert len(segments) == 8
    assert unquote(segments[4], errors="strict") == person_id
    assert unquote(segments[6], errors="strict") == definition_id


@SETTINGS
@given(
    status=st.sampled_from([*DOCUMENTED_STATUSES, 200, 302, 409, 499, 502, 503, 520, 599]),
    body=st.binary(max_size=300),
    retry_after=st.none() | st.text(max_size=30),
)
def test_any_status_and_body_gives_an_event_or_a_typed_error(status: int, body: bytes, retry_after: str | None) -> None:
    printable = retry_after is not None and retry_after.isascii() and retry_after.isprintable()
    headers = {"Retry-After": retry_after} if printable and retry_after else {}
    try:
        outcome = facade(Recorder(status, body, headers)).send("1001", "addToCart", identifier_type="ID")
    except PeopleEventsError as err:
        assert err.status == status
        assert err.event_id is not None
    else:
        assert status == 201
        assert isinstance(outcome, EventResponse)


@pytest.mark.parametrize("body", [b'{"requestError": {"serviceException": "x"}}', b"[" * 5000, b"\xff\xfe"],
                         ids=["odd-envelope", "deep-nesting", "invalid-utf8"])  # fmt: skip
def test_hostile_error_bodies_still_give_the_typed_error(body: bytes) -> None:
    with pytest.raises(PeopleEventsError) as caught:
        facade(Recorder(400, body)).send("1001", "addToCart", identifier_type="ID")
    assert caught.value.status == 400
