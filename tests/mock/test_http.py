"""Over real HTTP (uvicorn on 127.0.0.1): serve(), the pytest plugin, dropped connections, the real-time limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from people_events_mock import create_app
from people_events_mock.pytest_plugin import MockServer
from people_events_mock.testing import serve
from tests.support.mock_api import APP_AUTH, event_path, service_exception
from tests.support.windows import max_per_rolling_second

SEND_URL = event_path() + "?identifierType=EMAIL"


def test_serve_yields_a_loopback_url_and_stops_on_exit() -> None:
    with serve(create_app()) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{base_url}/_mock/health").json()["status"] == "ok"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/_mock/health", timeout=2)


def test_serve_on_ipv6_loopback() -> None:
    try:
        with serve(create_app(), host="::1") as base_url:
            assert base_url.startswith("http://[::1]:")
            assert httpx.get(f"{base_url}/_mock/health").status_code == 200
    except OSError:
        pytest.skip("no IPv6 loopback here")


def test_plugin_fixture_serves_a_fresh_mock(people_events_mock: MockServer) -> None:
    response = httpx.post(people_events_mock.base_url + SEND_URL, json={"eventId": "e1"}, headers=APP_AUTH)
    assert response.status_code == 201
    assert [event.event_id for event in people_events_mock.events(account="A")] == ["e1"]
    people_events_mock.reset()
    assert people_events_mock.events() == []
    assert people_events_mock.state.store.accounts() == ("A", "B", "F")


def test_reset_fault_is_a_transport_error_over_http(people_events_mock: MockServer) -> None:
    with httpx.Client(base_url=people_events_mock.base_url) as client:
        for fault in ["reset", "reset-after-store"]:
            with pytest.raises(httpx.TransportError):
                client.post(SEND_URL, json={"eventId": fault}, headers={**APP_AUTH, "X-Mock-Fault": fault})
        assert client.post(SEND_URL, headers=APP_AUTH).status_code == 201
    assert people_events_mock.events()[0].event_id == "reset-after-store"


def test_html_502_and_empty_429_over_http(people_events_mock: MockServer) -> None:
    with httpx.Client(base_url=people_events_mock.base_url) as client:
        html = client.post(SEND_URL, headers={**APP_AUTH, "X-Mock-Fault": "html-502"})
        empty = client.post(SEND_URL, headers={**APP_AUTH, "X-Mock-Fault": "empty-429"})
    assert (html.status_code, html.headers["content-type"].split(";")[0]) == (502, "text/html")
    assert (empty.status_code, empty.content, empty.headers.get("retry-after")) == (429, b"", None)


def test_encoded_slash_reaches_the_handler_over_http(people_events_mock: MockServer) -> None:
    url = people_events_mock.base_url + event_path("a%2Fb") + "?identifierType=EXTERNAL_ID&createPerson=true"
    assert httpx.post(url, headers=APP_AUTH).status_code == 201
    assert people_events_mock.events()[0].person.person_id == "a/b"


def test_huge_authorization_header_gets_json_401_over_http(people_events_mock: MockServer) -> None:
    response = httpx.post(people_events_mock.base_url + SEND_URL, headers={"Authorization": "App " + "x" * 200_000})
    assert response.status_code == 401
    service_exception(response)


def test_body_over_the_limit_gets_413_and_the_connection_stays_usable(people_events_mock: MockServer) -> None:
    with httpx.Client(base_url=people_events_mock.base_url) as client:
        too_big = client.post(
            SEND_URL, content=b"{" + b" " * 600_000 + b"}", headers={**APP_AUTH, "Content-Type": "application/json"}
        )
        assert too_big.status_code == 413
        assert client.post(SEND_URL, headers=APP_AUTH).status_code == 201


@pytest.mark.slow
async def test_no_rolling_second_accepts_more_than_250_in_real_time() -> None:
    """Real time over HTTP: 16 keep-alive clients hammer account A for ~2.5 s; by the server's acceptance times
    (read back through GET /_mock/events), no second [t, t + 1) holds more than 250 accepted events."""
    duration = 2.5
    statuses: list[int] = []

    async def hammer(base_url: str, stop_at: float) -> None:
        async with httpx.AsyncClient(base_url=base_url, headers=APP_AUTH) as client:
            while time.monotonic() < stop_at:
                statuses.append((await client.post(SEND_URL)).status_code)

    with serve(create_app()) as base_url:
        stop_at = time.monotonic() + duration
        await asyncio.gather(*(hammer(base_url, stop_at) for _ in range(16)))
        async with httpx.AsyncClient(base_url=base_url) as admin:
            events = (await admin.get("/_mock/events", params={"account": "A"})).json()["events"]

    accepted = sorted(event["acceptedAt"] for event in events)
    assert set(statuses) <= {201, 429}
    assert statuses.count(201) == len(accepted)
    assert statuses.count(429) > 0, "the load never reached the limit"
    assert len(accepted) >= 2 * 250
    assert max_per_rolling_second(accepted) <= 250


def test_plugin_factory_passes_create_app_options(people_events_mock_factory: Callable[..., MockServer]) -> None:
    tight = people_events_mock_factory(rate_limit=2)
    statuses = [httpx.post(tight.base_url + SEND_URL, headers=APP_AUTH).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    assert people_events_mock_factory().base_url != tight.base_url
