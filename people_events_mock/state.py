"""`MockState`: everything one mock app instance holds, kept on `app.state.mock`."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette

from people_events_mock.auth import Authenticator
from people_events_mock.clock import Clock, Sleep
from people_events_mock.faults import FaultBook
from people_events_mock.fixtures import Fixtures
from people_events_mock.ratelimit import RollingWindowLimiter
from people_events_mock.spec import SpecFacts
from people_events_mock.store import Store

__all__ = ["MockState", "mock_state"]


@dataclass(frozen=True, slots=True)
class MockState:
    """The parts of one mock: each is thread-safe on its own (see their modules). `spec` holds the facts read
    from openapi.yaml; `admin_token`, when set, is required by the admin API."""

    spec: SpecFacts
    fixtures: Fixtures
    authenticator: Authenticator
    limiter: RollingWindowLimiter
    store: Store
    faults: FaultBook
    clock: Clock
    sleep: Sleep
    admin_token: str | None = None

    def __repr__(self) -> str:  # never show the admin token
        return f"MockState(accounts={self.store.accounts()!r}, epoch={self.store.epoch})"

    def reset(self) -> None:
        """Back to the fixtures: no events, no extra persons or definitions, no admissions, no faults. A new
        epoch begins: a request admitted before now stores and creates nothing (docs/ARCHITECTURE.md,
        'Reset epoch')."""
        self.store.reset()
        self.limiter.reset()
        self.faults.reset()


def mock_state(app: Starlette | object) -> MockState:
    """The `MockState` of an app made by `create_app`."""
    state = getattr(getattr(app, "state", None), "mock", None)
    if not isinstance(state, MockState):
        raise TypeError("not an app made by people_events_mock.create_app")
    return state
