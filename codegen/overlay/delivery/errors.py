"""What a store raises when it cannot do what was asked: a clear message, and nothing half-written."""

from __future__ import annotations

from typing import Literal


class StoreError(Exception):
    """The store cannot be used: not a People Events store, a newer schema, an unusable file or database.

    From an outbox's ``enqueue``, ``event_id`` is the eventId of the event it was enqueueing (else None)."""

    event_id: str | None = None


class StoreUnavailable(StoreError):
    """The database could not be reached, or failed during the write (a lost connection, a server restart, no
    connection within the pool's timeout). The event may or may not be enqueued: enqueue it again with
    ``event_id=error.event_id``, so that a second row, if any, carries the same eventId (Infobip records it once)."""


class QueueFull(StoreError):
    """``enqueue`` wrote nothing: the queue holds its configured maximum of pending events (``reason="max_pending"``),
    or the disk (or the database server's disk) is full (``reason="disk"``). Events already enqueued are intact."""

    def __init__(self, message: str, *, reason: Literal["max_pending", "disk"]) -> None:
        super().__init__(message)
        self.reason = reason
