"""Where the contract suite sends its traffic: ``CONTRACT_TARGET=inprocess|served|live``, read once, at import.

- ``inprocess`` (default): the reference mock as an ASGI app, called without a socket;
- ``served``: the reference mock served by uvicorn on a free loopback port, once per session;
- ``live``: a real server, named by ``INFOBIP_BASE_URL``, ``INFOBIP_API_KEY``, ``INFOBIP_PERSON_ID``,
  ``INFOBIP_IDENTIFIER_TYPE`` and ``INFOBIP_DEFINITION_ID``; optionally ``INFOBIP_MAX_EVENTS`` (default 50)
  and ``INFOBIP_PROPERTIES`` (a JSON object that the named definition accepts). A live run is safe by
  construction: see live.py.

Tests that need the reference mock itself (admin API, faults, an injected clock) skip on live, saying why
(`MOCK_ONLY_REASON`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any, Final

import httpx
from starlette.applications import Starlette

from people_events_client import AsyncPeopleEvents
from people_events_mock import create_app
from people_events_mock.fixtures import default_fixtures
from people_events_mock.state import mock_state
from people_events_mock.store import EventFilter, StoredEvent
from people_events_mock.testing import serve

from .live import GuardedAsyncTransport, LiveGuard, LiveSettings, guard_every_requests_call
from .spec import send_event_operation

__all__ = [
    "ENV_TARGET",
    "LIVE",
    "MOCK_API_KEY",
    "MOCK_ONLY_REASON",
    "TARGET_KIND",
    "Seeds",
    "Target",
    "TargetKind",
    "inprocess_app",
    "mock_seeds",
    "open_target",
    "seed_properties",
    "target_seeds",
    "throttling_limit",
]


class TargetKind(StrEnum):
    """The three targets."""

    INPROCESS = "inprocess"
    SERVED = "served"
    LIVE = "live"


ENV_TARGET: Final = "CONTRACT_TARGET"
#: The fuzzing account F of the reference mock: its 1,000,000/s limit keeps 429 from hiding results.
MOCK_FUZZ_AUTHORIZATION: Final = "App mock-fuzz-key"
#: Account A of the reference mock, a client's everyday credential (250/s).
MOCK_API_KEY: Final = "mock-api-key"
#: Base URL of the in-process target: loopback, so the facade accepts plain http; no socket is opened.
INPROCESS_BASE_URL: Final = "http://127.0.0.1"
MOCK_ONLY_REASON: Final = (
    "checks the reference mock itself (admin API, injected clock or faults); CONTRACT_TARGET=live tests a real server"
)


def _read_target_kind(env: Mapping[str, str]) -> TargetKind:
    value = env.get(ENV_TARGET) or TargetKind.INPROCESS.value
    try:
        return TargetKind(value)
    except ValueError:
        raise ValueError(f"{ENV_TARGET}={value!r}: use one of {', '.join(kind.value for kind in TargetKind)}") from None


TARGET_KIND: Final = _read_target_kind(os.environ)
LIVE: Final = LiveSettings.from_env(os.environ) if TARGET_KIND is TargetKind.LIVE else None


@dataclass(frozen=True, slots=True)
class Seeds:
    """Real ids that make generated cases reach 201: (identifierType, personId) pairs, definitions, properties."""

    persons: tuple[tuple[str, str], ...]
    definitions: tuple[str, ...]
    properties: Mapping[str, Any] | None


def seed_properties() -> dict[str, Any]:
    """The properties of the spec's `seed` request example (the seed sample)."""
    media = send_event_operation()["requestBody"]["content"]["application/json"]
    properties: dict[str, Any] = media["examples"]["seed"]["value"]["properties"]
    return properties


@cache
def mock_seeds() -> Seeds:
    """The reference mock's fixture persons and definitions (every account has the same ones)."""
    account = default_fixtures().account("F")
    return Seeds(
        persons=tuple((person.identifier_type, person.person_id) for person in account.persons),
        definitions=tuple(definition.definition_id for definition in account.definitions),
        properties=seed_properties(),
    )


def target_seeds() -> Seeds:
    """The seeds for this run's target: the named person and definition on live, the fixtures otherwise."""
    if LIVE is not None:
        return Seeds(((LIVE.identifier_type, LIVE.person_id),), (LIVE.definition_id,), LIVE.properties)
    return mock_seeds()


@cache
def inprocess_app() -> Starlette:
    """The in-process target's app, one per session (schemathesis needs it when the test module is imported)."""
    return create_app()


@dataclass(frozen=True, slots=True)
class Target:
    """This run's target, as the tests use it."""

    kind: TargetKind
    base_url: str
    app: Starlette | None
    guard: LiveGuard | None
    fuzz_authorization: str
    api_key: str = field(repr=False)
    seeds: Seeds

    @property
    def description(self) -> str:
        """One line for the report."""
        if self.kind is TargetKind.INPROCESS:
            return "inprocess: the reference mock as an ASGI app"
        if self.kind is TargetKind.SERVED:
            return f"served: the reference mock at {self.base_url}"
        assert LIVE is not None
        return (
            f"live: {self.base_url}, person {LIVE.identifier_type} {LIVE.person_id!r}, "
            f"definition {LIVE.definition_id!r}, at most {LIVE.max_events} events"
        )

    def call_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for schemathesis's ``Case.call`` and ``validate_response``."""
        if self.kind is TargetKind.INPROCESS:
            return {}  # the schema's app is the in-process app
        return {"base_url": self.base_url}

    def async_facade(self, api_key: str | None = None, **options: Any) -> AsyncPeopleEvents:
        """The client under test, sending to this target (through the guard on live)."""
        transport: httpx.AsyncBaseTransport | None = None
        if self.app is not None and self.kind is TargetKind.INPROCESS:
            transport = httpx.ASGITransport(app=self.app)
        elif self.guard is not None:
            transport = GuardedAsyncTransport(self.guard, httpx.AsyncHTTPTransport())
        if transport is not None:
            options["http_client_args"] = {**options.get("http_client_args", {}), "transport": transport}
        return AsyncPeopleEvents(self.base_url, api_key or self.api_key, **options)

    def stored_events(self, **filters: str) -> list[StoredEvent]:
        """Events the mock stored (EventFilter's fields as keywords); only on the mock targets."""
        if self.app is None:
            raise RuntimeError("stored_events needs the reference mock")
        return mock_state(self.app).store.events(EventFilter(**filters))


@contextlib.contextmanager
def open_target() -> Iterator[Target]:
    """This run's target, ready to use until the context exits (the served mock is stopped then)."""
    if TARGET_KIND is TargetKind.INPROCESS:
        yield Target(
            TARGET_KIND, INPROCESS_BASE_URL, inprocess_app(), None, MOCK_FUZZ_AUTHORIZATION, MOCK_API_KEY, mock_seeds()
        )
    elif TARGET_KIND is TargetKind.SERVED:
        app = create_app()
        with serve(app) as base_url:
            yield Target(TARGET_KIND, base_url, app, None, MOCK_FUZZ_AUTHORIZATION, MOCK_API_KEY, mock_seeds())
    else:
        assert LIVE is not None
        guard = LiveGuard(LIVE)
        with guard_every_requests_call(guard):
            yield Target(TARGET_KIND, LIVE.base_url, None, guard, LIVE.authorization, LIVE.api_key, target_seeds())


def throttling_limit() -> int:
    """The account's documented limit per second (the spec's x-throttling-info)."""
    limit: int = send_event_operation()["x-throttling-info"][0]["numberOfRequests"]
    return limit
