"""Where the contract suite sends its traffic: ``CONTRACT_TARGET=inprocess|served|live``, read once, at import.

- ``inprocess`` (default): the reference mock as an ASGI app, called without a socket;
- ``served``: the reference mock in its own process (``python -m people_events_mock``) on a free loopback port,
  once per session, as a real server runs;
- ``live``: a real server, named by ``INFOBIP_BASE_URL``, ``INFOBIP_API_KEY``, ``INFOBIP_PERSON_ID``,
  ``INFOBIP_IDENTIFIER_TYPE`` and ``INFOBIP_DEFINITION_ID``; optionally ``INFOBIP_MAX_EVENTS`` (default 50)
  and ``INFOBIP_PROPERTIES`` (a JSON object that the named definition accepts). A live run is safe by
  construction: see live.py.

Tests that need the reference mock itself (admin API, faults, an injected clock) skip on live, saying why
(`MOCK_ONLY_REASON`). Stored events are read back through the mock's admin API (`stored_events`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any, Final

import httpx
from starlette.applications import Starlette

from people_events_client import AsyncPeopleEvents
from people_events_mock import create_app
from people_events_mock.fixtures import default_fixtures
from people_events_mock.testing import mock_process
from tests.support.mock_admin import astored_events

from .live import GuardedAsyncTransport, LiveGuard, LiveSettings, fresh_person_id, guard_every_requests_call
from .spec import seed_properties, seed_response_example

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
    "target_seeds",
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
#: Connections a target's raw client may open at once (the rate-limit probe's burst uses them).
MAX_CONNECTIONS: Final = 64


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
class Named:
    """The person and definition a target's own checks send events about."""

    person_id: str
    identifier_type: str
    definition_id: str


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
            return f"served: the reference mock in its own process at {self.base_url}"
        assert LIVE is not None
        return (
            f"live: {self.base_url}, person {LIVE.identifier_type} {LIVE.person_id!r}, "
            f"definition {LIVE.definition_id!r}, at most {LIVE.max_events} events"
        )

    @property
    def named(self) -> Named:
        """The named person and definition (live), or the fixture person of the seed's definition (mock)."""
        if LIVE is not None:
            return Named(LIVE.person_id, LIVE.identifier_type, LIVE.definition_id)
        definition = str(seed_response_example()["definitionId"])
        identifier_type, person_id = self.seeds.persons[0]
        return Named(person_id, identifier_type, definition)

    @property
    def known_good_properties(self) -> dict[str, Any]:
        """Properties the named definition accepts: INFOBIP_PROPERTIES when set, else the seed example's."""
        return dict(self.seeds.properties) if self.seeds.properties is not None else seed_properties()

    def unknown_person(self, identifier_type: str) -> str:
        """A fresh person id of `identifier_type` that cannot exist (admitted by the live guard)."""
        return self.guard.mint_person(identifier_type) if self.guard is not None else fresh_person_id(identifier_type)

    def call_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for schemathesis's ``Case.call`` and ``validate_response``."""
        if self.kind is TargetKind.INPROCESS:
            return {}  # the schema's app is the in-process app
        return {"base_url": self.base_url}

    def _transport(self) -> httpx.AsyncBaseTransport | None:
        limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)
        if self.app is not None and self.kind is TargetKind.INPROCESS:
            return httpx.ASGITransport(app=self.app)
        if self.guard is not None:
            return GuardedAsyncTransport(self.guard, httpx.AsyncHTTPTransport(limits=limits))
        return httpx.AsyncHTTPTransport(limits=limits)

    def async_facade(self, api_key: str | None = None, **options: Any) -> AsyncPeopleEvents:
        """The client under test, sending to this target (through the guard on live)."""
        transport = self._transport()
        if transport is not None:
            options["http_client_args"] = {**options.get("http_client_args", {}), "transport": transport}
        return AsyncPeopleEvents(self.base_url, api_key or self.api_key, **options)

    @contextlib.asynccontextmanager
    async def raw_client(self, authorization: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
        """An httpx client for hand-made requests to this target (through the guard on live), sending the
        account's `App` key unless `authorization` says otherwise."""
        headers = {"Authorization": authorization or f"App {self.api_key}"}
        async with httpx.AsyncClient(
            transport=self._transport(), base_url=self.base_url, headers=headers, timeout=30.0
        ) as client:
            yield client

    async def stored_events(self, **filters: str) -> list[dict[str, Any]]:
        """Events the reference mock stored, read through its admin API (``personId=``, ``eventId=``...)."""
        if self.kind is TargetKind.LIVE:
            raise RuntimeError("stored_events needs the reference mock's admin API")
        async with httpx.AsyncClient(transport=self._transport(), base_url=self.base_url) as client:
            return await astored_events(client, **filters)


@contextlib.contextmanager
def open_target() -> Iterator[Target]:
    """This run's target, ready to use until the context exits (the served mock is stopped then)."""
    if TARGET_KIND is TargetKind.INPROCESS:
        yield Target(
            TARGET_KIND, INPROCESS_BASE_URL, inprocess_app(), None, MOCK_FUZZ_AUTHORIZATION, MOCK_API_KEY, mock_seeds()
        )
    elif TARGET_KIND is TargetKind.SERVED:
        with mock_process() as mock:
            yield Target(TARGET_KIND, mock.base_url, None, None, MOCK_FUZZ_AUTHORIZATION, MOCK_API_KEY, mock_seeds())
    else:
        assert LIVE is not None
        guard = LiveGuard(LIVE)
        with guard_every_requests_call(guard):
            yield Target(TARGET_KIND, LIVE.base_url, None, guard, LIVE.authorization, LIVE.api_key, target_seeds())
