"""Every error is JSON in Infobip's envelope: framework 404/405/500 included, never plain text."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from people_events_mock.state import MockState
from tests.support.mock_api import APP_AUTH, Sender, event_path, service_exception


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/nope",
        "/peopleevents/2/persons/jane/definitions/addToCart",
        "/peopleevents/2/persons/jane/definitions/addToCart/events/",
        "/peopleevents/2/persons/a/b/definitions/addToCart/events",
        "/peopleevents/2/persons/jane/definitions/a/b/events",
        "/peopleevents/3/persons/jane/definitions/addToCart/events",
        "/_mock",
        "/_mock/health/",
        "/%0A",
        "/%FF%FE",
    ],
    ids=lambda path: path,
)
async def test_unknown_path_gets_json_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, headers=APP_AUTH)
    assert response.status_code == 404
    assert service_exception(response)["messageId"] == "NOT_FOUND"


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
async def test_wrong_method_gets_json_405_with_allow(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, event_path() + "?identifierType=EMAIL", headers=APP_AUTH)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert service_exception(response)["messageId"] == "METHOD_NOT_ALLOWED"


async def test_head_gets_405_without_a_body(client: httpx.AsyncClient) -> None:
    response = await client.head(event_path(), headers=APP_AUTH)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


async def test_wrong_method_on_admin_route_gets_json_405(client: httpx.AsyncClient) -> None:
    response = await client.post("/_mock/events")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    service_exception(response)


async def test_unexpected_exception_gets_json_500(
    app: Starlette, state: MockState, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(state.store, "record_event", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        response = await client.post(event_path() + "?identifierType=EMAIL", headers=APP_AUTH)
    assert response.status_code == 500
    assert service_exception(response)["messageId"] == "GENERAL_ERROR"


async def test_error_text_never_echoes_credentials(send: Sender) -> None:
    response = await send(auth="App secret-looking-key")
    assert "secret-looking-key" not in response.text
