"""`MockState`: everything one mock app instance holds, kept on `app.state.mock`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette

from people_events_mock.auth import Authenticator
from people_events_mock.clock import Clock, Sleep
from people_events_mock.faults import FaultBook
from people_events_mock.fixtures import Fixtures
from people_events_mock.ratelimit import RollingWindowLimiter
from people_events_mock.store import Store

__all__ = ["MockState", "mock_state"]


@dataclass(frozen=True, slots=True)
class MockState:
    """The parts of one mock: each is thread-safe on its own (see their modules)."""

    fixtures: Fixtures
    authenticator: Authenticator
    limiter: RollingWindowLimiter
    store: Store
    faults: FaultBook
    clock: Clock
    sleep: Sleep

    def reset(self) -> None:
        """Back to the fixtures: no events, no extra persons or definitions, no admissions, no faults."""
        self.store.reset()
        self.limiter.reset()
        self.faults.reset()


def mock_state(app: Starlette) -> MockState:
    """The `MockState` of an app made by `create_app`."""
    state = app.state.mock
    if not isinstance(state, MockState):
        raise TypeError("not an app made by people_events_mock.create_app")
    return state
