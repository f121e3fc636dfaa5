# copied from codegen/overlay/delivery/__init__.py by `make regenerate`; edit there, never here.
"""The delivery engine: a durable queue of events, drained at the account's pace, with every outcome recorded.

One engine with two front doors: the bulk CLI (``people-events send``) enqueues a file's rows into an SQLite
journal and drains it; an outbox enqueues from an application and drains in the background.

- ``Store``: the interface (``store.py``); ``SQLiteStore`` implements it in one SQLite file (WAL), and
  ``PostgresStore`` in one PostgreSQL table (psycopg 3, the ``postgres`` extra, imported only when used).
- ``Drainer``: async workers that claim due events under leases and send them through ``AsyncPeopleEvents``.
- ``event_problems``: the checks ``send`` runs before any I/O, for validating input before it is enqueued.

This package needs only the client's own dependencies (no ``rich``).
"""

from .engine import Drainer, DrainStats, Halt, RoundPolicy, classify
from .errors import QueueFull, StoreError, StoreUnavailable
from .events import Claimed, Counts, FinishedRecord, Invalid, InvalidItem, NewEvent, Outcome, Rejected, Retry, Sent
from .facades import drain_facades
from .postgres import PostgresStore
from .sqlite import SCHEMA_VERSION, SQLiteStore
from .store import OutboxStore, Store
from .validation import IDENTIFIER_TYPES, event_problems

__all__ = (
    "IDENTIFIER_TYPES",
    "SCHEMA_VERSION",
    "Claimed",
    "Counts",
    "DrainStats",
    "Drainer",
    "FinishedRecord",
    "Halt",
    "Invalid",
    "InvalidItem",
    "NewEvent",
    "OutboxStore",
    "Outcome",
    "PostgresStore",
    "QueueFull",
    "Rejected",
    "Retry",
    "RoundPolicy",
    "SQLiteStore",
    "Sent",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "classify",
    "drain_facades",
    "event_problems",
)
