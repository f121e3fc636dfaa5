# copied from codegen/overlay/outbox/__init__.py by `make regenerate`; edit there, never here.
"""A durable outbox: ``enqueue`` never blocks on the network and never loses an event; drainers deliver it.

    outbox = Outbox("sqlite:///var/lib/app/people-events.db", base_url=..., api_key=..., rate_limit=250)
    event_id = outbox.enqueue(person_id, "addToCart", identifier_type="EMAIL", properties={...})
    outbox.start()            # drain in a background thread (AsyncOutbox: a task)
    outbox.flush(timeout=30)  # True once nothing is pending
    outbox.stats()            # pending, in_flight, retrying, sent, rejected, invalid, oldest_pending_age
    outbox.rejected()         # rejected events with their errors; outbox.redrive(ids) queues them again
    outbox.close()            # stop the drainer cleanly

The second front door of the delivery engine (``people_events_client.delivery``): the same stores and drainer as
``people-events send``. SQLite (one file, the default: no setup) or PostgreSQL (``pip install
'infobip-people-events-client[postgres]'``: ``enqueue(..., connection=conn)`` inside your own transaction, many
drainers on many hosts, ``migrate()`` or ``people-events migrate STORE_URL`` first). ``people-events drain
STORE_URL`` runs a drainer as a process of its own.
"""

from ..delivery import Counts, FinishedRecord, QueueFull, RoundPolicy, StoreError, StoreUnavailable
from .core import AsyncOutbox, Outbox, OutboxClosed
from .runner import DrainLoop, DrainOptions, DrainTotals
from .stores import open_store, redact

__all__ = (
    "AsyncOutbox",
    "Counts",
    "DrainLoop",
    "DrainOptions",
    "DrainTotals",
    "FinishedRecord",
    "Outbox",
    "OutboxClosed",
    "QueueFull",
    "RoundPolicy",
    "StoreError",
    "StoreUnavailable",
    "migrate",
    "open_store",
    "redact",
)


def migrate(store_url: str) -> int:
    """Create the outbox schema at ``store_url`` if it is missing (idempotent); returns its version."""
    store = open_store(store_url)
    try:
        return store.migrate()
    finally:
        store.close()
