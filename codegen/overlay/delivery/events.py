"""What the delivery engine moves: events to enqueue, claimed events, and the outcomes it records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to enqueue. Its ``event_id`` is final: every attempt, in every process, sends this one.

    ``ref`` is the front door's own reference (the bulk CLI: the input line), kept for dead letters.
    """

    event_id: str
    person_id: str
    identifier_type: str
    definition_id: str
    properties: Mapping[str, Any] | None = None
    create_person: bool = False
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class InvalidItem:
    """Input that failed local validation: recorded with its problems, never sent.

    ``problems`` maps a field (or ``"row"``) to what is wrong with it, as the server's ``validationErrors`` do.
    ``original`` is the input as the front door read it: a JSON object of the row's fields, or a JSON string
    holding the raw text when the row could not be read as an object.
    """

    problems: Mapping[str, list[str]]
    original: str
    event_id: str | None = None
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    """A pending event leased to one drainer; ``rounds`` is how many delivery rounds it has already failed."""

    seq: int
    event: NewEvent
    rounds: int


@dataclass(frozen=True, slots=True)
class Sent:
    """Recorded after the 201, with the server's occurredTime (ISO 8601)."""

    occurred_time: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A final failure: a 4xx, or a 5xx / no response after every round. ``status`` is None when no response came."""

    status: int | None
    message_id: str | None
    text: str | None
    validation_errors: Mapping[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Invalid:
    """Refused locally before any I/O (e.g. a stored event that no longer passes validation): never sent."""

    problems: Mapping[str, list[str]]


@dataclass(frozen=True, slots=True)
class Retry:
    """Not delivered this round and safe to resend with the same eventId after ``delay`` seconds."""

    delay: float
    error: str


Outcome = Sent | Rejected | Invalid | Retry
"""What one delivery attempt (one round of the client's own retries) ended with."""


@dataclass(frozen=True, slots=True)
class Counts:
    """Events by state. ``in_flight`` and ``retrying`` are subsets of ``pending`` (leased now; failed a round)."""

    pending: int = 0
    in_flight: int = 0
    retrying: int = 0
    sent: int = 0
    rejected: int = 0
    invalid: int = 0
    oldest_pending_age: float | None = None

    @property
    def total(self) -> int:
        return self.pending + self.sent + self.rejected + self.invalid

    @property
    def done(self) -> int:
        return self.sent + self.rejected + self.invalid


@dataclass(frozen=True, slots=True)
class FinishedRecord:
    """A rejected or invalid event as the store keeps it, for dead letters and redrives."""

    seq: int
    state: str
    event_id: str | None
    person_id: str | None
    identifier_type: str | None
    definition_id: str | None
    properties: Mapping[str, Any] | None
    create_person: bool
    ref: str | None
    status: int | None
    message_id: str | None
    text: str | None
    validation_errors: Mapping[str, list[str]]
    original: str | None
