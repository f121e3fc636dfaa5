"""The mock's state: persons, event definitions and stored events per account, and the idempotency index.

Bounded: stored events (their JSON plus a fixed overhead each) and the persons that requests created count
against a memory budget (`max_bytes`, default 100 MiB, ``--max-store-mb``). Past it the oldest events are
evicted, and counted (`stats`); an evicted event's eventId is forgotten, so sending it again stores a new
event. Events are kept as compact JSON bytes, so the budget is close to the memory they take.

Idempotency scope: (account, person, definition, eventId). The same eventId for the same person and
definition is stored once, and a replay returns the original event; under another definition it is another
event, so a 201 always reports the path's definition.

Reset barrier: every reset starts a new epoch. A write made on behalf of a request admitted in an earlier
epoch (`epoch=`) stores nothing, and the request answers as it would have before the reset.

Concurrency: one `threading.Lock` guards all of it. Every method takes the lock for its whole body and never
awaits, so a check-then-store (idempotency, createPerson) is atomic whether the app runs on one event loop
(uvicorn) or is called from several threads (test clients).
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from people_events_mock.clock import format_utc
from people_events_mock.constants import (
    DEFAULT_MAX_STORE_BYTES,
    EVENT_METADATA_SOURCE,
    EVENT_OVERHEAD_BYTES,
    PERSON_OVERHEAD_BYTES,
)
from people_events_mock.definitions import EventDefinition
from people_events_mock.fixtures import AccountFixture
from people_events_mock.strict_json import dumps

__all__ = ["EventFilter", "PersonKey", "Store", "StoreFull", "StoredEvent"]

_METADATA = orjson.dumps({"source": EVENT_METADATA_SOURCE})


class StoreFull(Exception):
    """The persons that requests created fill the whole budget: there is no event left to evict."""


@dataclass(frozen=True, slots=True)
class PersonKey:
    """A person record: unique within its account by (identifier type, person id)."""

    account: str
    identifier_type: str
    person_id: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An accepted event. `accepted_at` is when the rate limiter admitted its request (POSIX seconds);
    `properties_json` is its properties as compact JSON (``null`` when absent); `seq` orders the store."""

    person: PersonKey
    event_id: str
    definition_id: str
    accepted_at: float
    properties_json: bytes = b"null"
    seq: int = field(default=0, compare=False)

    @property
    def properties(self) -> Mapping[str, Any] | None:
        """The properties, parsed afresh (callers may change them)."""
        parsed: Mapping[str, Any] | None = orjson.loads(self.properties_json)
        return parsed

    @property
    def occurred_time(self) -> str:
        """`accepted_at` as ISO 8601 UTC with a Z."""
        return format_utc(self.accepted_at)

    @property
    def size(self) -> int:
        """Bytes this event counts against the store's budget."""
        return len(self.properties_json) + len(self.event_id) + len(self.definition_id) + EVENT_OVERHEAD_BYTES

    def response_json(self) -> bytes:
        """The 201 body (the spec's EventResponse) as JSON bytes."""
        return b"".join(
            (
                b'{"eventId":',
                orjson.dumps(self.event_id),
                b',"definitionId":',
                orjson.dumps(self.definition_id),
                b',"occurredTime":"',
                self.occurred_time.encode("ascii"),
                b'","properties":',
                self.properties_json,
                b',"metadata":',
                _METADATA,
                b"}",
            )
        )

    def response_body(self) -> dict[str, Any]:
        """The 201 body (the spec's EventResponse)."""
        body: dict[str, Any] = orjson.loads(self.response_json())
        return body

    def admin_json(self) -> bytes:
        """The event as the admin API lists it: the 201 body plus account, person, acceptance time and seq."""
        head = orjson.dumps(
            {
                "account": self.person.account,
                "person": {"identifierType": self.person.identifier_type, "personId": self.person.person_id},
            }
        )
        tail = orjson.dumps({"acceptedAt": self.accepted_at, "seq": self.seq})
        return head[:-1] + b"," + self.response_json()[1:-1] + b"," + tail[1:]

    def admin_view(self) -> dict[str, Any]:
        """`admin_json` parsed."""
        view: dict[str, Any] = orjson.loads(self.admin_json())
        return view


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Filters of GET /_mock/events; None matches anything."""

    account: str | None = None
    identifier_type: str | None = None
    person_id: str | None = None
    definition_id: str | None = None
    event_id: str | None = None

    def matches(self, event: StoredEvent) -> bool:
        """Whether `event` passes every filter that is set."""
        return (
            (self.account is None or event.person.account == self.account)
            and (self.identifier_type is None or event.person.identifier_type == self.identifier_type)
            and (self.person_id is None or event.person.person_id == self.person_id)
            and (self.definition_id is None or event.definition_id == self.definition_id)
            and (self.event_id is None or event.event_id == self.event_id)
        )


@dataclass(frozen=True, slots=True)
class Page:
    """One page of GET /_mock/events: the events, and the `after` cursor of the next page (None: the last)."""

    events: list[StoredEvent]
    next_after: int | None


class Store:
    """Persons, definitions and events of every account. Thread-safe (one lock, see the module docstring)."""

    def __init__(self, accounts: Iterable[AccountFixture], *, max_bytes: int = DEFAULT_MAX_STORE_BYTES) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self._lock = threading.Lock()
        self._fixtures = tuple(accounts)
        self.max_bytes = max_bytes
        self._epoch = 0
        self._next_seq = 1
        self._evicted = 0
        self._persons: set[PersonKey] = set()
        self._fixture_persons: frozenset[PersonKey] = frozenset()
        self._definitions: dict[tuple[str, str], EventDefinition] = {}
        self._events: deque[StoredEvent] = deque()
        self._by_key: dict[tuple[PersonKey, str, str], StoredEvent] = {}
        self._bytes = 0
        self.reset()

    # --- lifecycle ------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the fixtures: fixture persons and definitions, no events; a new epoch begins."""
        with self._lock:
            self._epoch += 1
            self._fixture_persons = frozenset(
                PersonKey(account.name, person.identifier_type, person.person_id)
                for account in self._fixtures
                for person in account.persons
            )
            self._persons = set(self._fixture_persons)
            self._definitions = {
                (account.name, definition.definition_id): definition
                for account in self._fixtures
                for definition in account.definitions
            }
            self._events = deque()
            self._by_key = {}
            self._bytes = 0
            self._evicted = 0

    @property
    def epoch(self) -> int:
        """The current epoch: a request remembers it when admitted, and writes with it."""
        return self._epoch

    def stats(self) -> dict[str, int]:
        """Stored events, their bytes against the budget, and how many were evicted since the last reset."""
        with self._lock:
            return {
                "events": len(self._events),
                "bytes": self._bytes,
                "maxBytes": self.max_bytes,
                "evicted": self._evicted,
                "createdPersons": len(self._persons) - len(self._fixture_persons),
            }

    # --- persons and definitions -------------------------------------------------------------------------

    def accounts(self) -> tuple[str, ...]:
        """Names of the accounts."""
        return tuple(account.name for account in self._fixtures)

    def definition(self, account: str, definition_id: str) -> EventDefinition | None:
        """The account's definition `definition_id`, or None."""
        with self._lock:
            return self._definitions.get((account, definition_id))

    def put_definition(self, account: str, definition: EventDefinition, *, epoch: int | None = None) -> bool:
        """Add or replace a definition; True when it is new. Nothing changes for a stale `epoch`."""
        with self._lock:
            key = (account, definition.definition_id)
            new = key not in self._definitions
            if epoch is None or epoch == self._epoch:
                self._definitions[key] = definition
            return new

    def has_person(self, person: PersonKey) -> bool:
        """Whether the person exists."""
        with self._lock:
            return person in self._persons

    def add_person(self, person: PersonKey, *, epoch: int | None = None) -> bool:
        """Add a person; True when it is new. Nothing changes for a stale `epoch`. Raises `StoreFull`."""
        with self._lock:
            new = person not in self._persons
            if new and (epoch is None or epoch == self._epoch):
                self._add_person(person)
            return new

    def _add_person(self, person: PersonKey) -> None:
        self._bytes += len(person.person_id) + PERSON_OVERHEAD_BYTES
        self._evict()
        if self._bytes > self.max_bytes:
            self._bytes -= len(person.person_id) + PERSON_OVERHEAD_BYTES
            raise StoreFull(f"created persons fill the store's budget of {self.max_bytes} bytes")
        self._persons.add(person)

    # --- events -------------------------------------------------------------------------------------

    def record_event(
        self,
        person: PersonKey,
        *,
        event_id: str | None,
        definition_id: str,
        properties: Mapping[str, Any] | None,
        accepted_at: float,
        create_person: bool,
        epoch: int | None = None,
    ) -> tuple[StoredEvent, bool] | None:
        """Store an event, or find the one already stored under (account, person, definition, eventId).

        Returns the event and whether it is new; None (nothing stored) when the person does not exist and
        `create_person` is false. A replay stores nothing and returns the original, whatever its payload.
        With `create_person`, a missing person is created in the same step as the event. For a stale `epoch`
        (a reset came after the request was admitted) nothing is stored or created, and the event the request
        would have stored is returned. Raises `StoreFull`.
        """
        # A copy of exact size: orjson's result keeps a 4 KiB buffer however short the JSON, 4 KiB per stored event.
        properties_json = bytes(memoryview(dumps(properties)))
        with self._lock:
            stale = epoch is not None and epoch != self._epoch
            exists = person in self._persons
            if not create_person and not exists and not stale:
                return None
            if event_id is not None:
                original = None if stale else self._by_key.get((person, definition_id, event_id))
                if original is not None:
                    return original, False
            else:
                event_id = str(uuid.uuid4()).upper()
            event = StoredEvent(
                person=person,
                event_id=event_id,
                definition_id=definition_id,
                accepted_at=accepted_at,
                properties_json=properties_json,
                seq=self._next_seq,
            )
            if stale:
                return event, True
            if create_person and not exists:
                self._add_person(person)
            self._next_seq += 1
            self._events.append(event)
            self._by_key[(person, definition_id, event_id)] = event
            self._bytes += event.size
            self._evict()
            return event, True

    def _evict(self) -> None:
        """Drop the oldest events while over budget (the lock is held)."""
        while self._bytes > self.max_bytes and self._events:
            oldest = self._events.popleft()
            self._bytes -= oldest.size
            self._evicted += 1
            key = (oldest.person, oldest.definition_id, oldest.event_id)
            if self._by_key.get(key) is oldest:
                del self._by_key[key]

    def events(self, where: EventFilter | None = None) -> list[StoredEvent]:
        """Stored events in the order they were stored, optionally filtered."""
        with self._lock:
            events = list(self._events)
        return events if where is None else [event for event in events if where.matches(event)]

    def page(self, where: EventFilter, *, after: int, limit: int, max_bytes: int) -> Page:
        """Up to `limit` matching events stored after seq `after` (and at least one, at most `max_bytes` of
        JSON beyond the first), and the cursor of the next page."""
        with self._lock:
            first_seq = self._events[0].seq if self._events else self._next_seq
            start = max(0, after + 1 - first_seq)
            candidates = itertools.islice(self._events, start, None)
            found: list[StoredEvent] = []
            size = 0
            for event in candidates:
                if not where.matches(event):
                    continue
                if len(found) == limit or (found and size + len(event.properties_json) > max_bytes):
                    return Page(found, found[-1].seq)
                found.append(event)
                size += len(event.properties_json)
            return Page(found, None)
