"""What a store raises when it cannot do what was asked: a clear message, and nothing half-written."""

from __future__ import annotations

from typing import Literal


class StoreError(Exception):
    """The store cannot be used: not a People Events store, a newer schema, an unusable file or database."""


class QueueFull(StoreError):
    """``enqueue`` wrote nothing: the queue holds its configured maximum of pending events (``reason="max_pending"``),
    or the disk (or the database server's disk) is full (``reason="disk"``). Events already enqueued are intact."""

    def __init__(self, message: str, *, reason: Literal["max_pending", "disk"]) -> None:
        super().__init__(message)
        self.reason = reason
