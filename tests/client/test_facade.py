"""The facade's outcomes over respx, for PeopleEvents and AsyncPeopleEvents alike (the ``driver`` fixture runs
every test with both): the recorded event, or a typed error with event_id set; retries that reuse one eventId;
Retry-After; the deadline; ValueError before any I/O."""

from __future__ import annotations

import gzip
import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from people_events_client import (
    BadRequest,
    DeadlineExceeded,
    EventProperties,
    Forbidden,
    IdentifierType,
    NotFound,
    PeopleEventsError,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
)
from tests.support.clock import FakeClock
from tests.support.facades import SEND_PATH, Driver, created, envelope, sent_bodies, then_created


def test_send_returns_the_recorded_event(api: respx.MockRouter, driver: Driver) -> None:
    api.post(SEND_PATH).mock(side_effect=created)
    event = driver.send(driver.facade(), properties={"totalCost": 100})
    (body,) = sent_bodies([call.request for call in api.calls])
    assert event.event_id == body["eventId"]
    assert event.definition_id == "addToCart"
    assert isinstance(event.properties, EventProperties)
    assert event.properties.to_dict() == {"totalCost": 100}
    assert event.occurred_time == datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_callers_event_id_is_sent_and_returned(api: respx.MockRouter, driver: Driver) -> None:
    api.post(SEND_PATH).mock(side_effect=created)
    event = driver.send(driver.facade(), event_id="order-42")
    assert sent_bodies([call.request for call in api.calls]) == [{"eventId": "order-42"}]
    assert event.event_id == "order-42"


@pytest.mark.parametrize("identifier_type", [IdentifierType.EMAIL, "EMAIL"], ids=["enum", "string"])
def test_identifier_type_takes_the_enum_or_its_value(
    api: respx.MockRouter, driver: Driver, identifier_type: IdentifierType | str
) -> None:
    api.post(SEND_PATH).mock(side_effect=created)
    driver.send(driver.facade(), identifier_type=identifier_type, create_person=True)
    assert api.calls.last.request.url.params["identifierType"] == "EMAIL"
    assert api.calls.last.request.url.params["createPerson"] == "true"


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, PeopleEventsError),
        (413, PeopleEventsError),
        (415, PeopleEventsError),
        (499, PeopleEventsError),
    ],
    ids=["400", "401", "403", "404", "409", "413", "415", "499"],
)
def test_non_retryable_status_raises_its_class_after_one_attempt(
    api: respx.MockRouter, driver: Driver, status: int, error_class: type[PeopleEventsError]
) -> None:
    api.post(SEND_PATH).respond(status, json=envelope("SOME_ID", "some text"))
    with pytest.raises(error_class) as caught:
        driver.send(driver.facade(), event_id="e-1")
    err = caught.value
    assert type(err) is error_class
    assert (err.status, err.message_id, err.text, err.event_id) == (status, "SOME_ID", "some text", "e-1")
    assert err.may_be_stored is False
    assert err.response is not None
    assert err.response.status_code == status
    assert api.calls.call_count == 1
    assert str(err) == f"HTTP {status} SOME_ID: some text"


def test_bad_request_carries_validation_errors(api: respx.MockRouter, driver: Driver) -> None:
    errors = {"properties.itemsInCart[1].quantity": ["must be a number"]}
    api.post(SEND_PATH).respond(400, json=envelope("BAD_REQUEST", "Invalid", validationErrors=errors))
    with pytest.raises(BadRequest) as caught:
        driver.send(driver.facade())
    assert caught.value.validation_errors == errors


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, json=envelope("GENERAL_ERROR", "oops")),
        httpx.Response(502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}),
        httpx.Response(503),
        httpx.Response(520, text="cloudflare"),
    ],
    ids=["500-envelope", "502-html", "503-empty", "520-unknown"],
)
def test_any_5xx_is_retried_then_raises_server_error(
    api: respx.MockRouter, driver: Driver, response: httpx.Response
) -> None:
    route = api.post(SEND_PATH).mock(return_value=response)
    with pytest.raises(ServerError) as caught:
        driver.send(driver.facade())
    assert caught.value.status == response.status_code
    assert caught.value.may_be_stored is True
    assert route.call_count == 4


def test_a_5xx_then_a_201_returns_the_event(api: respx.MockRouter, driver: Driver) -> None:
    api.post(SEND_PATH).mock(side_effect=then_created(httpx.Response(503)))
    assert driver.send(driver.facade(), event_id="e-2").event_id == "e-2"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(201, text="<html>ok</html>"),
        httpx.Response(201),
        httpx.Response(201, json={"eventId": "x"}),
        httpx.Response(201, json={"eventId": 1, "definitionId": "d", "occurredTime": "2026-01-01T00:00:00Z"}),
        httpx.Response(201, json={"eventId": "e-3", "definitionId": "d", "occurredTime": "yesterday"}),
        httpx.Response(201, content=b"[" * 100_000),
        httpx.Response(201, content=b"\xff\xfe not utf-8"),
    ],
    ids=["html", "empty", "missing-fields", "wrong-type", "bad-date", "deep-nesting", "not-utf8"],
)
def test_a_201_that_is_not_an_event_raises_unexpected_response(
    api: respx.MockRouter, driver: Driver, response: httpx.Response
) -> None:
    route = api.post(SEND_PATH).mock(return_value=response)
    with pytest.raises(UnexpectedResponse) as caught:
        driver.send(driver.facade(), event_id="e-3")
    err = caught.value
    assert (err.status, err.event_id, err.may_be_stored) == (201, "e-3", True)
    assert str(err) == "HTTP 201 whose body is not an event"
    assert route.call_count == 1


def test_a_201_for_another_event_id_raises_unexpected_response(api: respx.MockRouter, driver: Driver) -> None:
    api.post(SEND_PATH).mock(side_effect=lambda request: created(request, eventId="someone-elses"))
    with pytest.raises(UnexpectedResponse) as caught:
        driver.send(driver.facade(), event_id="mine")
    assert caught.value.event_id == "mine"
    assert "someone-elses" in str(caught.value)


def test_429_waits_the_retry_after_seconds(api: respx.MockRouter, driver: Driver, clock: FakeClock) -> None:
    api.post(SEND_PATH).mock(side_effect=then_created(httpx.Response(429, headers={"Retry-After": "3"})))
    driver.send(driver.facade())
    assert clock.sleeps == [3.0]


def test_429_waits_until_an_http_date(api: respx.MockRouter, driver: Driver, clock: FakeClock) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    api.post(SEND_PATH).mock(side_effect=then_created(httpx.Response(429, headers={"Retry-After": when})))
    driver.send(driver.facade())
    (slept,) = clock.sleeps
    assert 18 <= slept <= 20


@pytest.mark.parametrize("header", [None, "-5", "soon", "nan"], ids=["absent", "negative", "garbage", "nan"])
def test_429_without_a_usable_retry_after_backs_off_exponentially_with_jitter(
    api: respx.MockRouter, driver: Driver, clock: FakeClock, header: str | None
) -> None:
    headers = {} if header is None else {"Retry-After": header}
    api.post(SEND_PATH).respond(429, headers=headers)
    with pytest.raises(RateLimited) as caught:
        driver.send(driver.facade())
    assert all(low <= s <= high for s, low, high in zip(clock.sleeps, [0.375, 0.75, 1.5], [0.5, 1.0, 2.0], strict=True))
    assert caught.value.retry_after is None
    assert caught.value.retry_after_header == header


def test_retry_after_is_capped_and_reported_as_used(api: respx.MockRouter, driver: Driver, clock: FakeClock) -> None:
    api.post(SEND_PATH).respond(429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimited) as caught:
        driver.send(driver.facade(), event_id="e-4")
    assert clock.sleeps == [60.0, 60.0, 60.0]
    assert caught.value.retry_after == 60.0
    assert caught.value.retry_after_header == "3600"
    assert caught.value.may_be_stored is False


@pytest.mark.parametrize(
    ("error", "may_be_stored"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow connect"), False),
        (httpx.ReadTimeout("slow read"), True),
        (httpx.RemoteProtocolError("dropped"), True),
        (httpx.ReadError("reset"), True),
    ],
    ids=["connect-error", "connect-timeout", "read-timeout", "dropped", "reset"],
)
def test_transport_failure_is_retried_then_raises_transport_error(
    api: respx.MockRouter, driver: Driver, error: httpx.TransportError, may_be_stored: bool
) -> None:
    route = api.post(SEND_PATH).mock(side_effect=error)
    with pytest.raises(TransportError) as caught:
        driver.send(driver.facade(), event_id="e-5")
    err = caught.value
    assert route.call_count == 4
    assert (err.status, err.event_id, err.may_be_stored) == (None, "e-5", may_be_stored)
    assert err.__cause__ is error


def test_a_local_protocol_error_is_not_retried(api: respx.MockRouter, driver: Driver) -> None:
    route = api.post(SEND_PATH).mock(side_effect=httpx.LocalProtocolError("illegal header"))
    with pytest.raises(TransportError):
        driver.send(driver.facade())
    assert route.call_count == 1


def test_a_5xx_then_a_4xx_still_says_the_event_may_be_stored(api: respx.MockRouter, driver: Driver) -> None:
    api.post(SEND_PATH).mock(
        side_effect=[httpx.Response(500), httpx.Response(429), httpx.Response(429), httpx.Response(429)]
    )
    with pytest.raises(RateLimited) as caught:
        driver.send(driver.facade())
    assert caught.value.may_be_stored is True


def test_every_retry_reuses_the_event_id(api: respx.MockRouter, driver: Driver) -> None:
    api.post(SEND_PATH).mock(
        side_effect=then_created(httpx.Response(429), httpx.Response(503), httpx.ConnectError("refused"))
    )
    event = driver.send(driver.facade())
    bodies = sent_bodies([call.request for call in api.calls])
    assert len(bodies) == 4
    assert {body["eventId"] for body in bodies} == {event.event_id}


def test_max_retries_zero_means_one_attempt(api: respx.MockRouter, driver: Driver) -> None:
    route = api.post(SEND_PATH).respond(503)
    with pytest.raises(ServerError):
        driver.send(driver.facade(max_retries=0))
    assert route.call_count == 1


def test_deadline_stops_before_a_wait_that_would_pass_it(
    api: respx.MockRouter, driver: Driver, clock: FakeClock
) -> None:
    route = api.post(SEND_PATH).respond(429, headers={"Retry-After": "10"})
    with pytest.raises(RateLimited):
        driver.send(driver.facade(deadline=5))
    assert route.call_count == 1
    assert clock.sleeps == []


def test_deadline_passing_during_an_attempt_raises_deadline_exceeded(
    api: respx.MockRouter, driver: Driver, clock: FakeClock
) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        clock.advance(6)
        raise httpx.ReadTimeout("read timed out", request=request)

    api.post(SEND_PATH).mock(side_effect=slow)
    with pytest.raises(DeadlineExceeded) as caught:
        driver.send(driver.facade(deadline=5), event_id="e-6")
    err = caught.value
    assert (err.status, err.event_id, err.may_be_stored) == (None, "e-6", True)
    assert isinstance(err.__cause__, httpx.ReadTimeout)


def test_deadline_caps_each_attempts_timeouts(api: respx.MockRouter, driver: Driver, clock: FakeClock) -> None:
    seen: list[dict[str, float]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.extensions["timeout"]))
        clock.advance(1.5)
        return httpx.Response(503)

    api.post(SEND_PATH).mock(side_effect=record)
    with pytest.raises(ServerError):
        driver.send(driver.facade(deadline=4, timeout=httpx.Timeout(3.0, connect=1.0)))
    assert seen[0] == {"connect": 1.0, "read": 3.0, "write": 3.0, "pool": 3.0}
    left = 4 - 1.5 - clock.sleeps[0]
    assert seen[1] == pytest.approx({"connect": 1.0, "read": left, "write": left, "pool": left}, abs=1e-6)


def test_without_a_deadline_the_configured_timeouts_apply(api: respx.MockRouter, driver: Driver) -> None:
    api.post(SEND_PATH).mock(side_effect=created)
    driver.send(driver.facade())
    assert api.calls.last.request.extensions["timeout"] == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}


INVALID_INPUT = [
    ({"person_id": ""}, "person_id"),
    ({"person_id": "."}, "person_id"),
    ({"person_id": ".."}, "person_id"),
    ({"person_id": "x" * 257}, "person_id"),
    ({"person_id": "a\ud800"}, "person_id"),
    ({"person_id": 1001}, "person_id"),
    ({"definition_id": "d" * 37}, "definition_id"),
    ({"event_id": ""}, "event_id"),
    ({"event_id": "a b"}, "event_id"),
    ({"event_id": "x" * 37}, "event_id"),
    ({"identifier_type": "SMOKE_SIGNAL"}, "identifier_type"),
    ({"identifier_type": 3}, "identifier_type"),
    ({"create_person": "yes"}, "create_person"),
    ({"properties": {"n": float("nan")}}, "properties"),
    ({"properties": {"s": {1, 2}}}, "properties"),
    ({"properties": {1: "a", "1": "b"}}, "properties"),
    ({"properties": {"nested": [{2: "x"}]}}, "properties"),
    ({"properties": {"s": "\ud800"}}, "properties"),
    ({"properties": ["not", "a", "mapping"]}, "properties"),
]


@pytest.mark.parametrize(("options", "named"), INVALID_INPUT, ids=[f"{o}" for o, _ in INVALID_INPUT])
def test_invalid_input_raises_value_error_before_any_io(
    api: respx.MockRouter, driver: Driver, options: dict[str, Any], named: str
) -> None:
    route = api.post(url__regex=".*").mock(side_effect=created)
    with pytest.raises(ValueError, match=named):
        driver.send(driver.facade(), **options)
    assert route.call_count == 0


def test_deeply_nested_properties_raise_value_error(api: respx.MockRouter, driver: Driver) -> None:
    nested: dict[str, object] = {}
    inner = nested
    for _ in range(5000):
        inner["x"] = {}
        inner = inner["x"]  # type: ignore[assignment]
    with pytest.raises(ValueError, match="nested too deeply"):
        driver.send(driver.facade(), properties=nested)


def test_longest_valid_ids_are_accepted(api: respx.MockRouter, driver: Driver) -> None:
    api.post(url__regex=".*").mock(side_effect=created)
    driver.send(driver.facade(), person_id="p" * 256, definition_id="d" * 36, event_id="e" * 36)
    assert api.calls.call_count == 1


def test_response_hooks_see_every_response_before_it_is_classified(api: respx.MockRouter, driver: Driver) -> None:
    api.post(SEND_PATH).mock(side_effect=[httpx.Response(503), httpx.Response(429), httpx.Response(404)])
    statuses: list[int] = []
    requests: list[str] = []

    def on_request(request: httpx.Request) -> None:
        requests.append(request.method)

    def on_response(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    async def aon_request(request: httpx.Request) -> None:
        on_request(request)

    async def aon_response(response: httpx.Response) -> None:
        on_response(response)

    hooks: dict[str, list[Any]] = {"request": [on_request], "response": [on_response]}
    if driver.kind == "async":
        hooks = {"request": [aon_request], "response": [aon_response]}
    with pytest.raises(NotFound):
        driver.send(driver.facade(http_client_args={"event_hooks": hooks}))
    assert statuses == [503, 429, 404]
    assert requests == ["POST"] * 3


class HookBug(Exception):
    pass


@pytest.mark.parametrize("hook", ["request", "response"])
def test_an_exception_from_a_users_hook_propagates_unchanged(api: respx.MockRouter, driver: Driver, hook: str) -> None:
    route = api.post(SEND_PATH).mock(side_effect=created)

    def broken(_: object) -> None:
        raise HookBug("the user's own bug")

    async def abroken(_: object) -> None:
        broken(_)

    hooks = {hook: [abroken if driver.kind == "async" else broken]}
    with pytest.raises(HookBug, match="the user's own bug"):
        driver.send(driver.facade(http_client_args={"event_hooks": hooks}))
    assert route.call_count == (0 if hook == "request" else 1)


def test_one_debug_line_per_attempt(api: respx.MockRouter, driver: Driver, caplog: pytest.LogCaptureFixture) -> None:
    api.post(SEND_PATH).mock(side_effect=then_created(httpx.Response(503)))
    with caplog.at_level(logging.DEBUG, logger="people_events_client"):
        driver.send(driver.facade())
    assert [r.getMessage() for r in caplog.records if r.name == "people_events_client"] == [
        "attempt 1/4 -> 503",
        "attempt 2/4 -> 201",
    ]


@pytest.mark.parametrize(("status", "error_class"), [(503, ServerError), (201, UnexpectedResponse), (404, NotFound)])
def test_an_undecodable_body_is_classified_by_its_status(
    driver: Driver, status: int, error_class: type[PeopleEventsError]
) -> None:
    """A body labelled gzip that is not (a proxy's page, a truncated download) is read as empty. (respx decodes
    bodies itself, so this one goes through httpx.MockTransport, which streams.)"""

    def truncated(request: httpx.Request) -> httpx.Response:
        stream = httpx.ByteStream(gzip.compress(b"<html>")[:5])
        return httpx.Response(status, stream=stream, headers={"content-encoding": "gzip"})

    facade = driver.facade(max_retries=0, http_client_args=driver.mock_transport(truncated))
    with pytest.raises(error_class) as caught:
        driver.send(facade)
    assert caught.value.status == status
    assert "empty body" in str(caught.value) or status == 201


def test_an_error_envelope_on_an_undocumented_status_is_read(api: respx.MockRouter, driver: Driver) -> None:
    api.post(SEND_PATH).respond(502, json=envelope("UPSTREAM", "gateway down"))
    with pytest.raises(ServerError) as caught:
        driver.send(driver.facade(max_retries=0))
    assert (caught.value.message_id, caught.value.text) == ("UPSTREAM", "gateway down")


@pytest.mark.parametrize(
    "body",
    [
        {"requestError": {"serviceException": {"messageId": 7, "text": ["x"], "validationErrors": {"a": "b"}}}},
        {"requestError": "nope"},
        [1, 2],
        "just a string",
    ],
    ids=["wrong-types", "wrong-shape", "array", "string"],
)
def test_a_hostile_error_body_still_gives_the_typed_error(api: respx.MockRouter, driver: Driver, body: object) -> None:
    api.post(SEND_PATH).respond(400, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with pytest.raises(BadRequest) as caught:
        driver.send(driver.facade())
    assert caught.value.message_id is None or isinstance(caught.value.message_id, str)
    assert caught.value.validation_errors == {}


@pytest.mark.parametrize(("status", "error_class"), [(201, UnexpectedResponse), (404, NotFound), (503, ServerError)])
def test_a_response_a_hook_closed_unread_is_classified_by_its_status(
    driver: Driver, status: int, error_class: type[PeopleEventsError]
) -> None:
    def closing(response: httpx.Response) -> None:
        response.close()

    async def aclosing(response: httpx.Response) -> None:
        await response.aclose()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, stream=httpx.ByteStream(b'{"eventId": "x"}'))

    hooks = {"response": [aclosing if driver.kind == "async" else closing]}
    args = {**driver.mock_transport(answer), "event_hooks": hooks}
    with pytest.raises(error_class) as caught:
        driver.send(driver.facade(max_retries=0, http_client_args=args))
    assert caught.value.status == status


def test_a_base_url_path_prefix_is_kept(api: respx.MockRouter, driver: Driver) -> None:
    route = api.post(url__regex=r"/gateway/v1/peopleevents/").mock(side_effect=created)
    driver.send(driver.facade(base_url="https://api.infobip.com/gateway/v1/"), person_id="a/b", identifier_type="ID")
    assert route.call_count == 1
    request = api.calls.last.request
    assert request.url.raw_path == b"/gateway/v1/peopleevents/2/persons/a%2Fb/definitions/addToCart/events" + (
        b"?identifierType=ID&createPerson=false"
    )
