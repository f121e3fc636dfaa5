"""Helpers for tests of the reference mock: its default credentials and seed ids, the Send Event path, the
error envelope's shape, and the call signatures of the mock test fixtures (tests/mock/conftest.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import httpx
from starlette.applications import Starlette

from people_events_mock.fixtures import Fixtures
from people_events_mock.samples import seed_properties

API_KEY = "mock-api-key"
APP_AUTH = {"Authorization": f"App {API_KEY}"}
SEED_PERSON = "jane.doe@example.com"
SEED_DEFINITION = "addToCart"
SEED_PROPERTIES: dict[str, Any] = seed_properties()


def event_path(person_id: str = SEED_PERSON, definition_id: str = SEED_DEFINITION) -> str:
    """The Send Event path with the ids inserted as given (encode them yourself)."""
    return f"/peopleevents/2/persons/{person_id}/definitions/{definition_id}/events"


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


class MockAppFactory(Protocol):
    """The ``mock_app`` fixture: an app on the test's fake clock."""

    def __call__(
        self, *, rate_limit: int | None = None, fixtures: Fixtures | None = None, seed: int = 0
    ) -> Starlette: ...


class Sender(Protocol):
    """The ``send`` fixture: Send Event with keyword defaults (the seed person and definition, account A)."""

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
