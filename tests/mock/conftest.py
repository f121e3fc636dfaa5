"""Fixtures of the mock's unit tests: an injected clock and sleep, and factories for apps and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import httpx
import jsonschema
import pytest
import yaml
from starlette.applications import Starlette

from people_events_mock import create_app
from people_events_mock.fixtures import Fixtures

# The plugin's fixture, for these tests even when the package is not installed (its pytest11 entry point
# registers it only then; this conftest's import takes precedence either way).
from people_events_mock.pytest_plugin import people_events_mock, people_events_mock_factory  # noqa: F401
from people_events_mock.samples import seed_properties
from people_events_mock.state import MockState, mock_state

API_KEY = "mock-api-key"
APP_AUTH = {"Authorization": f"App {API_KEY}"}
SEED_PERSON = "jane.doe@example.com"
SEED_DEFINITION = "addToCart"
SEED_PROPERTIES: dict[str, Any] = seed_properties()
START = 1_700_000_000.0


def event_path(person_id: str = SEED_PERSON, definition_id: str = SEED_DEFINITION) -> str:
    """The Send Event path with the ids inserted as given (encode them yourself)."""
    return f"/peopleevents/2/persons/{person_id}/definitions/{definition_id}/events"


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeSleep:
    """Records the delays it was asked for, and advances the clock instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_sleep(clock: FakeClock) -> FakeSleep:
    return FakeSleep(clock)


class MockAppFactory(Protocol):
    def __call__(
        self, *, rate_limit: int | None = None, fixtures: Fixtures | None = None, seed: int = 0
    ) -> Starlette: ...


@pytest.fixture
def mock_app(clock: FakeClock, fake_sleep: FakeSleep) -> MockAppFactory:
    """Factory of apps on the test's fake clock and sleep."""
    import random

    def make(*, rate_limit: int | None = None, fixtures: Fixtures | None = None, seed: int = 0) -> Starlette:
        return create_app(
            fixtures=fixtures, clock=clock, sleep=fake_sleep, rate_limit=rate_limit, rng=random.Random(seed)
        )

    return make


@pytest.fixture
def app(mock_app: MockAppFactory) -> Starlette:
    return mock_app()


@pytest.fixture
def state(app: Starlette) -> MockState:
    return mock_state(app)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling `app` in-process."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as http:
        yield http


class Sender(Protocol):
    async def __call__(
        self,
        *,
        person_id: str = SEED_PERSON,
        definition_id: str = SEED_DEFINITION,
        identifier_type: str | None = "EMAIL",
        query: str | None = None,
        json: Any = None,
        content: bytes | None = None,
        auth: str | None = f"App {API_KEY}",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response: ...


@pytest.fixture
def send(client: httpx.AsyncClient) -> Sender:
    """Send Event with keyword defaults: the seed person and definition, account A's App key, no body."""

    async def send_event(
        *,
        person_id: str = SEED_PERSON,
        definition_id: str = SEED_DEFINITION,
        identifier_type: str | None = "EMAIL",
        query: str | None = None,
        json: Any = None,
        content: bytes | None = None,
        auth: str | None = f"App {API_KEY}",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        if query is None:
            query = "" if identifier_type is None else f"identifierType={identifier_type}"
        all_headers = dict(headers or {})
        if auth is not None:
            all_headers["Authorization"] = auth
        url = event_path(person_id, definition_id) + (f"?{query}" if query else "")
        if json is not None:
            return await client.post(url, json=json, headers=all_headers)
        return await client.post(url, content=content, headers=all_headers)

    return send_event


def service_exception(response: httpx.Response) -> dict[str, Any]:
    """The serviceException of an error response (asserting the envelope's shape)."""
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"requestError"}
    assert set(body["requestError"]) == {"serviceException"}
    details: dict[str, Any] = body["requestError"]["serviceException"]
    assert isinstance(details["messageId"], str)
    assert isinstance(details["text"], str)
    return details


SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text("utf-8"))
    return spec


def assert_conforms(response: httpx.Response) -> None:
    """Assert that a Send Event response is one the spec documents: status, media type, body and headers."""
    spec = _spec()
    operation = spec["paths"]["/peopleevents/2/persons/{personId}/definitions/{definitionId}/events"]["post"]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"status {response.status_code} is not documented"
    assert response.headers["content-type"].split(";")[0] == "application/json"
    schema = {**documented["content"]["application/json"]["schema"], "components": spec["components"]}
    jsonschema.validate(
        response.json(), schema, cls=jsonschema.Draft202012Validator, format_checker=jsonschema.FormatChecker()
    )
    for name, header in documented.get("headers", {}).items():
        value = response.headers.get(name)
        if header.get("required"):
            assert value is not None, f"missing required header {name}"
        if value is not None and header["schema"].get("type") == "integer":
            assert value.isdigit()
            jsonschema.validate(int(value), header["schema"])
