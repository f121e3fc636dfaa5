"""The mock's state: persons, event definitions and stored events per account, and the idempotency index.

Concurrency: one `threading.Lock` guards all of it. Every method takes the lock for its whole
body and never awaits, so a check-then-store (idempotency, createPerson) is atomic whether the
app runs on one event loop (uvicorn) or is called from several threads (test clients).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from people_events_mock.clock import format_utc
from people_events_mock.constants import EVENT_METADATA_SOURCE
from people_events_mock.fixtures import AccountFixture
from people_events_mock.validation import EventDefinition

__all__ = ["EventFilter", "PersonKey", "Store", "StoredEvent"]


@dataclass(frozen=True, slots=True)
class PersonKey:
    """A person record: unique within its account by (identifier type, person id)."""

    account: str
    identifier_type: str
    person_id: str


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An accepted event. `accepted_at` is when the rate limiter admitted its request (POSIX seconds)."""

    person: PersonKey
    event_id: str
    definition_id: str
    accepted_at: float
    properties: Mapping[str, Any] | None

    @property
    def occurred_time(self) -> str:
        """`accepted_at` as ISO 8601 UTC with a Z."""
        return format_utc(self.accepted_at)

    def response_body(self) -> dict[str, Any]:
        """The 201 body (the spec's EventResponse)."""
        return {
            "eventId": self.event_id,
            "definitionId": self.definition_id,
            "occurredTime": self.occurred_time,
            "properties": self.properties,
            "metadata": {"source": EVENT_METADATA_SOURCE},
        }

    def admin_view(self) -> dict[str, Any]:
        """The event as the admin API lists it: the 201 body plus account, person and acceptance time."""
        return {
            "account": self.person.account,
            "person": {"identifierType": self.person.identifier_type, "personId": self.person.person_id},
            **self.response_body(),
            "acceptedAt": self.accepted_at,
        }


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


class Store:
    """Persons, definitions and events of every account. Thread-safe (one lock, see the module docstring)."""

    def __init__(self, accounts: Iterable[AccountFixture]) -> None:
        self._lock = threading.Lock()
        self._fixtures = tuple(accounts)
        self._persons: set[PersonKey] = set()
        self._definitions: dict[tuple[str, str], EventDefinition] = {}
        self._events: list[StoredEvent] = []
        self._by_event_id: dict[tuple[PersonKey, str], StoredEvent] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the fixtures: fixture persons and definitions, no events."""
        with self._lock:
            self._persons = {
                PersonKey(account.name, person.identifier_type, person.person_id)
                for account in self._fixtures
                for person in account.persons
            }
            self._definitions = {
                (account.name, definition.definition_id): definition
                for account in self._fixtures
                for definition in account.definitions
            }
            self._events = []
            self._by_event_id = {}

    def accounts(self) -> tuple[str, ...]:
        """Names of the accounts."""
        return tuple(account.name for account in self._fixtures)

    def definition(self, account: str, definition_id: str) -> EventDefinition | None:
        """The account's definition `definition_id`, or None."""
        with self._lock:
            return self._definitions.get((account, definition_id))

    def put_definition(self, account: str, definition: EventDefinition) -> bool:
        """Add or replace a definition; True when it is new."""
        with self._lock:
            key = (account, definition.definition_id)
            new = key not in self._definitions
            self._definitions[key] = definition
            return new

    def has_person(self, person: PersonKey) -> bool:
        """Whether the person exists."""
        with self._lock:
            return person in self._persons

    def add_person(self, person: PersonKey) -> bool:
        """Add a person; True when it is new."""
        with self._lock:
            new = person not in self._persons
            self._persons.add(person)
            return new

    def record_event(
        self,
        person: PersonKey,
        *,
        event_id: str | None,
        definition_id: str,
        properties: Mapping[str, Any] | None,
        accepted_at: float,
        create_person: bool,
    ) -> tuple[StoredEvent, bool] | None:
        """Store an event, or find the one already stored under (account, person, eventId).

        Returns the event and whether it is new; None (nothing stored) when the person does not exist
        and `create_person` is false. A replay stores nothing and returns the original, whatever its
        payload. With `create_person`, a missing person is created in the same step as the event.
        """
        with self._lock:
            if not create_person and person not in self._persons:
                return None
            if event_id is not None:
                original = self._by_event_id.get((person, event_id))
                if original is not None:
                    return original, False
            else:
                event_id = str(uuid.uuid4()).upper()
            if create_person:
                self._persons.add(person)
            event = StoredEvent(
                person=person,
                event_id=event_id,
                definition_id=definition_id,
                accepted_at=accepted_at,
                properties=properties,
            )
            self._events.append(event)
            self._by_event_id[(person, event_id)] = event
            return event, True

    def events(self, where: EventFilter | None = None) -> list[StoredEvent]:
        """Stored events in the order they were stored, optionally filtered."""
        with self._lock:
            events = list(self._events)
        return events if where is None else [event for event in events if where.matches(event)]
