"""people_events_mock: the reference mock of Infobip People Events "Send Event".

Stateful, validating, rate-limited and fault-injecting; a Starlette ASGI app served by uvicorn.

- `create_app(...)` builds an app (in-process use, e.g. with httpx.ASGITransport).
- `python -m people_events_mock` / `people-events-mock` serves it (see ``--help``).
- `people_events_mock.testing.serve(app)` serves an app on a free loopback port in a thread.
- The pytest plugin's ``people_events_mock`` fixture does that for a fresh app per test.
"""

from __future__ import annotations

from people_events_mock.app import create_app
from people_events_mock.fixtures import FixtureError, Fixtures, default_fixtures, load_fixtures
from people_events_mock.state import MockState, mock_state
from people_events_mock.store import EventFilter, PersonKey, StoredEvent

__all__ = [
    "EventFilter",
    "FixtureError",
    "Fixtures",
    "MockState",
    "PersonKey",
    "StoredEvent",
    "create_app",
    "default_fixtures",
    "load_fixtures",
    "mock_state",
]
