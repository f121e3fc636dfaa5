"""pytest plugin (entry point ``pytest11``): the ``people_events_mock`` and ``people_events_mock_factory`` fixtures.

    def test_send(people_events_mock):
        client = PeopleEvents(people_events_mock.base_url, api_key="mock-api-key")
        client.send("jane.doe@example.com", "addToCart", identifier_type="EMAIL")
        assert len(people_events_mock.events()) == 1

    def test_tight_limit(people_events_mock_factory):
        mock = people_events_mock_factory(rate_limit=5)   # create_app's keywords

Each server is a fresh app (fixture state, empty store) served by uvicorn on a free loopback port,
and stopped when the test ends. Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from people_events_mock.state import MockState
    from people_events_mock.store import StoredEvent

__all__ = ["MockServer", "people_events_mock", "people_events_mock_factory"]


@dataclass(frozen=True, slots=True)
class MockServer:
    """A served mock: `base_url` to send to, `app` (and its `state`) to inspect or reset directly."""

    base_url: str
    app: Starlette

    @property
    def state(self) -> MockState:
        """The app's state: store, limiter, faults."""
        from people_events_mock.state import mock_state

        return mock_state(self.app)

    def events(self, **filters: str) -> list[StoredEvent]:
        """Stored events, filtered by `EventFilter`'s fields (account=, identifier_type=, person_id=, ...)."""
        from people_events_mock.store import EventFilter

        return self.state.store.events(EventFilter(**filters))

    def reset(self) -> None:
        """Back to the fixtures (as POST /_mock/reset)."""
        self.state.reset()


@pytest.fixture
def people_events_mock_factory() -> Iterator[Callable[..., MockServer]]:
    """Factory: ``people_events_mock_factory(**create_app_keywords) -> MockServer``, each served until teardown."""
    from people_events_mock.app import create_app
    from people_events_mock.testing import serve

    with contextlib.ExitStack() as servers:

        def start(**options: Any) -> MockServer:
            app = create_app(**options)
            return MockServer(base_url=servers.enter_context(serve(app)), app=app)

        yield start


@pytest.fixture
def people_events_mock(people_events_mock_factory: Callable[..., MockServer]) -> MockServer:
    """A fresh reference mock served on a free loopback port (default fixtures and limits)."""
    return people_events_mock_factory()
