"""Edge cases of the client layer: undecodable bodies, low-level calls without an eventId, deadlines that bound
everything, http_client_args that cannot bypass the stack, and the Redis fallback's recovery."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from people_events_client import (
    AsyncPeopleEvents,
    EventRequest,
    IdentifierType,
    PeopleEvents,
    PeopleEventsError,
    RateLimited,
    ServerError,
    TransportError,
)
from people_events_client._http_options import split_http_client_args
from people_events_client._pacing import Pacer
from people_events_client.api.events import send_custom_event

from .conftest import API_KEY, BASE_URL, FakeClock
from .test_facade import CREATED, SEND

GARBAGE_GZIP = {"Content-Encoding": "gzip", "Content-Type": "text/html"}


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


def undecodable(status: int, calls: list[httpx.Request]) -> httpx.MockTransport:
    """A server whose body claims gzip but is not (a proxy's page): httpx fails decoding it on read."""

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status, headers=GARBAGE_GZIP, stream=httpx.ByteStream(b"<html>not gzip</html>"))

    return httpx.MockTransport(handler)


def test_undecodable_5xx_is_retried_and_raises_server_error(make_facade: Callable[..., PeopleEvents]) -> None:
    calls: list[httpx.Request] = []
    with pytest.raises(ServerError) as caught:
        make_facade(http_client_args={"transport": undecodable(502, calls)}).send("1", "d", identifier_type="ID")
    assert caught.value.status == 502
    assert len(calls) == 4


def test_undecodable_201_raises_the_base_error_with_status_201(make_facade: Callable[..., PeopleEvents]) -> None:
    with pytest.raises(PeopleEventsError) as caught:
        make_facade(http_client_args={"transport": undecodable(201, [])}).send("1", "d", identifier_type="ID")
    assert type(caught.value) is PeopleEventsError
    assert caught.value.status == 201


def test_deeply_nested_201_raises_the_base_error(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]
) -> None:
    api.post(SEND).respond(201, content=b"[" * 100_000)
    with pytest.raises(PeopleEventsError) as caught:
        make_facade().send("1001", "addToCart", identifier_type="ID")
    assert caught.value.status == 201


@pytest.mark.parametrize(
    ("body", "attempts"),
    [(EventRequest(), 1), (EventRequest(event_id="evt-low-level"), 4)],
    ids=["no-event-id-not-resent", "event-id-resent"],
)
def test_low_level_client_resends_a_5xx_only_with_an_event_id(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], body: EventRequest, attempts: int
) -> None:
    route = api.post(SEND).respond(503)
    people = make_facade()
    with pytest.raises(ServerError):
        send_custom_event.sync_detailed("1001", "addToCart", client=people.client, body=body,
                                        identifier_type=IdentifierType.ID)  # fmt: skip
    assert route.call_count == attempts


def test_low_level_client_resends_a_429_even_without_an_event_id(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]
) -> None:
    route = api.post(SEND).respond(429)
    with pytest.raises(RateLimited):
        send_custom_event.sync_detailed("1001", "addToCart", client=make_facade().client,
                                        identifier_type=IdentifierType.ID)  # fmt: skip
    assert route.call_count == 4


def test_sync_deadline_already_spent_sends_nothing(api: respx.MockRouter) -> None:
    route = api.post(SEND).respond(201, json=CREATED)
    people = PeopleEvents(BASE_URL, API_KEY, deadline=0.0, rate_limit_key="spent-deadline-sync")
    with pytest.raises(TransportError, match="timed out"):
        people.send("1001", "addToCart", identifier_type="ID")
    assert route.call_count == 0


async def test_async_deadline_already_spent_sends_nothing(api: respx.MockRouter) -> None:
    route = api.post(SEND).respond(201, json=CREATED)
    people = AsyncPeopleEvents(BASE_URL, API_KEY, deadline=0.0, rate_limit_key="spent-deadline-async")
    with pytest.raises(TransportError, match="timed out"):
        await people.send("1001", "addToCart", identifier_type="ID")
    assert route.call_count == 0


def test_deadline_caps_each_attempts_timeouts(make_facade: Callable[..., PeopleEvents], clock: FakeClock) -> None:
    seen: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.extensions["timeout"]))
        clock.now += 1.5
        return httpx.Response(503)

    people = make_facade(deadline=4.0, http_client_args={"transport": httpx.MockTransport(handler)})
    with pytest.raises(ServerError):
        people.send("1001", "addToCart", identifier_type="ID")
    assert seen[0] == {"connect": 4.0, "read": 4.0, "write": 4.0, "pool": 4.0}
    assert seen[1]["read"] == pytest.approx(4.0 - 1.5 - clock.sleeps[0])
    assert seen[1]["connect"] <= 4.0 - 1.5


@pytest.mark.parametrize(
    ("args", "message"),
    [({"headers": {"X": "1"}}, "does not take"), ({"timeout": 3}, "does not take"), ({"mounts": {}}, "does not take"),
     ({"transport": httpx.MockTransport(lambda r: httpx.Response(201)), "verify": False}, "not both")],
    ids=["headers", "timeout", "mounts", "transport-and-options"],
)  # fmt: skip
def test_http_client_args_that_would_bypass_or_clash_are_refused(args: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PeopleEvents(BASE_URL, API_KEY, http_client_args=args)


def test_environment_proxy_is_used_inside_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert split_http_client_args({}, BASE_URL).transport_options == {"proxy": "http://127.0.0.1:3128"}
    people = PeopleEvents(BASE_URL, API_KEY)
    assert not people.client.get_httpx_client()._mounts, "no env-proxy mount may route around the stack"
    monkeypatch.setenv("NO_PROXY", "api.infobip.com")
    assert split_http_client_args({}, BASE_URL).transport_options == {}


def test_invalid_rate_limit_and_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        PeopleEvents(BASE_URL, API_KEY, rate_limit=0)
    with pytest.raises(ValueError, match="credentials"):
        PeopleEvents("https://user:secret-in-url@api.infobip.com", API_KEY)


class FlakyLimiter:
    """A limiter whose backend is down until ``up`` is set."""

    def __init__(self) -> None:
        self.up = False
        self.calls = 0

    def try_acquire(self, name: str, blocking: bool = True, timeout: float = -1) -> bool:
        self.calls += 1
        if not self.up:
            raise ConnectionError("redis is down")
        return True


def test_redis_fallback_warns_once_per_outage_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    limiter = FlakyLimiter()
    pacer = Pacer("recovering-key", 250, limiter)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="people_events_client"):
        assert pacer.acquire(1.0)
        assert pacer.acquire(1.0)
        assert limiter.calls == 1, "during the cooldown the primary is not called again"
        limiter.up = True
        pacer._down_until = 0.0  # the cooldown has passed
        assert pacer.acquire(1.0)
        assert limiter.calls == 2
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert messages == [
        (logging.WARNING, "pacing limiter failed (ConnectionError); falling back to in-process pacing"),
        (logging.INFO, "pacing limiter is back; in-process fallback pacing ends"),
    ]


def test_request_body_of_a_facade_send_always_carries_the_event_id(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]
) -> None:
    api.post(SEND).respond(201, json=CREATED)
    make_facade().send("1001", "addToCart", identifier_type="ID")
    assert json.loads(api.calls.last.request.content)["eventId"]
