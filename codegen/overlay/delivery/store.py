"""The store interface: a durable queue of pending events with leased claims, and their recorded outcomes.

Every store (SQLite here; PostgreSQL for fleets) keeps one row per event with a state:

- ``pending``: enqueued, not finished. A drainer *claims* pending events under a *lease* that expires, so
  several drainers (threads, processes, hosts) can share one store, and a killed drainer's events are
  claimed again by another once its lease runs out. The eventId never changes, so a resend after a crash
  (between the server's 201 and the mark) is recorded by the server once.
- ``sent`` (with occurredTime), ``rejected`` (status, messageId, text, validationErrors), ``invalid`` (never
  sent): final. An event becomes ``sent`` only after its 201.

Times are the store's own (the SQLite store: this host's clock; a PostgreSQL store: the server's ``now()``),
so callers pass durations in seconds, never timestamps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from .events import Claimed, Counts, FinishedRecord, InvalidItem, NewEvent, Outcome

STATES = ("pending", "sent", "rejected", "invalid")


class Store(Protocol):
    """What the delivery engine needs from a store. Every method is one short transaction."""

    def enqueue(self, events: Iterable[NewEvent]) -> None:
        """Durably add pending events (one transaction: all or none)."""
        ...

    def record_invalid(self, items: Iterable[InvalidItem]) -> None:
        """Durably record input that failed local validation (state ``invalid``)."""
        ...

    def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Claimed]:
        """Lease up to ``limit`` due pending events to ``owner``, oldest first. An event is due when its retry delay
        has passed and it has no live lease; a lease expires ``lease_seconds`` after the claim (or the last renew)."""
        ...

    def renew(self, owner: str, lease_seconds: float) -> int:
        """Extend every lease ``owner`` holds; returns how many."""
        ...

    def release(self, owner: str) -> int:
        """Give back every lease ``owner`` holds, without using a round (a clean stop); returns how many."""
        ...

    def record(self, owner: str, outcomes: Sequence[tuple[int, Outcome]]) -> None:
        """Record outcomes by event ``seq`` in one transaction. Final outcomes apply to any still-pending event (a
        drainer whose lease ran out may still report a 201); a ``Retry`` applies only while ``owner`` holds the
        lease, and uses one round."""
        ...

    def next_due(self) -> float | None:
        """Seconds until some pending event can be claimed (0: now), or None when nothing is pending."""
        ...

    def counts(self) -> Counts:
        """Events by state."""
        ...

    def finished(self, states: Sequence[str] = ("rejected", "invalid")) -> Iterator[FinishedRecord]:
        """Final events in these states, in enqueue order, streamed (bounded memory)."""
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...


class OutboxStore(Store, Protocol):
    """What an outbox needs besides the drainer's ``Store``: a bounded ``enqueue``, and the care of final events."""

    def enqueue(self, events: Iterable[NewEvent], *, max_pending: int | None = None) -> None:
        """Durably add pending events, or raise ``QueueFull`` (over ``max_pending``, or a full disk) writing nothing."""
        ...

    def migrate(self) -> int:
        """Create the schema if it is missing (idempotent); returns its version."""
        ...

    def redrive(self, event_ids: Iterable[str]) -> int:
        """Queue the rejected (or invalid) events with these eventIds again; returns how many."""
        ...

    def purge(self, event_ids: Iterable[str]) -> int:
        """Delete the rejected (or invalid) events with these eventIds; returns how many."""
        ...

    def prune(self, older_than: float) -> int:
        """Delete events sent more than ``older_than`` seconds ago; returns how many."""
        ...
