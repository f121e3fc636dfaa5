"""AsyncPeopleEvents: the async twins of the main facade cases."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from people_events_client import AsyncPeopleEvents, BadRequest, RateLimited, ServerError, TransportError

from .conftest import BASE_URL, FakeClock
from .test_facade import CREATED, SEND, envelope


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


async def test_send_returns_the_recorded_event(
    api: respx.MockRouter, make_async_facade: Callable[..., AsyncPeopleEvents]
) -> None:
    api.post(SEND).respond(201, json=CREATED)
    async with make_async_facade() as facade:
        event = await facade.send("1001", "addToCart", identifier_type="ID", properties={"totalCost": 100})
    assert event.event_id == "E1"
    assert json.loads(api.calls.last.request.content)["properties"] == {"totalCost": 100}


async def test_429_then_201_honours_retry_after_and_reuses_event_id(
    api: respx.MockRouter, make_async_facade: Callable[..., AsyncPeopleEvents], clock: FakeClock
) -> None:
    api.post(SEND).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(201, json=CREATED)]
    )
    await make_async_facade().send("1001", "addToCart", identifier_type="ID")
    assert clock.sleeps == [2.0]
    assert len({json.loads(c.request.content)["eventId"] for c in api.calls}) == 1


async def test_html_502_retried_then_server_error(
    api: respx.MockRouter, make_async_facade: Callable[..., AsyncPeopleEvents]
) -> None:
    route = api.post(SEND).respond(502, html="<html>proxy</html>")
    with pytest.raises(ServerError):
        await make_async_facade().send("1001", "addToCart", identifier_type="ID")
    assert route.call_count == 4


async def test_empty_429_gives_rate_limited(
    api: respx.MockRouter, make_async_facade: Callable[..., AsyncPeopleEvents]
) -> None:
    api.post(SEND).respond(429, content=b"")
    with pytest.raises(RateLimited):
        await make_async_facade(max_retries=1).send("1001", "addToCart", identifier_type="ID")


async def test_bad_request_is_not_retried(
    api: respx.MockRouter, make_async_facade: Callable[..., AsyncPeopleEvents]
) -> None:
    route = api.post(SEND).respond(400, json=envelope("BAD_REQUEST", "Bad request"))
    with pytest.raises(BadRequest):
        await make_async_facade().send("1001", "addToCart", identifier_type="ID")
    assert route.call_count == 1


async def test_connection_error_raises_transport_error(
    api: respx.MockRouter, make_async_facade: Callable[..., AsyncPeopleEvents]
) -> None:
    api.post(SEND).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportError) as caught:
        await make_async_facade().send("1001", "addToCart", identifier_type="ID", event_id="evt-a")
    assert caught.value.event_id == "evt-a"


async def test_invalid_id_raises_value_error_before_io(
    api: respx.MockRouter, make_async_facade: Callable[..., AsyncPeopleEvents]
) -> None:
    with pytest.raises(ValueError, match="person_id"):
        await make_async_facade().send("..", "addToCart", identifier_type="ID")
    assert not api.calls
