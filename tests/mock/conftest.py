"""Fixtures of the mock's unit tests: an injected clock and sleep, apps and in-process clients (their helpers
and call signatures are in tests/support/mock_api.py)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from people_events_mock import create_app
from people_events_mock.fixtures import Fixtures

# The plugin's fixture, for these tests even when the package is not installed (its pytest11 entry point
# registers it only then; this conftest's import takes precedence either way).
from people_events_mock.pytest_plugin import people_events_mock, people_events_mock_factory  # noqa: F401
from people_events_mock.state import MockState, mock_state
from tests.support.clock import FakeClock
from tests.support.mock_api import API_KEY, SEED_DEFINITION, SEED_PERSON, MockAppFactory, Sender, event_path


@pytest.fixture
def clock() -> FakeClock:
    """The mock's clock; its `asleep` is the mock's sleep, which records each delay in `sleeps`."""
    return FakeClock()


@pytest.fixture
def mock_app(clock: FakeClock) -> MockAppFactory:
    """Factory of apps on the test's fake clock and sleep."""

    def make(*, rate_limit: int | None = None, fixtures: Fixtures | None = None, seed: int = 0) -> Starlette:
        return create_app(
            fixtures=fixtures, clock=clock, sleep=clock.asleep, rate_limit=rate_limit, rng=random.Random(seed)
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
