"""An application process that enqueues into an outbox, for multi-process outbox tests.

    python -m tests.support.outbox_worker STORE_URL TAG COUNT

Enqueues COUNT good events (account A's fixture persons, `addToCart`) with eventIds ``TAG-0`` .. ``TAG-<COUNT-1>``
through ``Outbox.enqueue`` (no drainer: enqueueing never needs the network), then exits 0.
"""

from __future__ import annotations

import sys
from typing import Any

from people_events_client.outbox import Outbox
from tests.support.bulk import good_row


def enqueue_good(outbox: Outbox, number: int, tag: str, **options: Any) -> str:
    """Enqueue `good_row(number, tag=tag)` with the eventId ``TAG-NUMBER`` (``options``: e.g. ``connection=``)."""
    row = good_row(number, tag=tag)
    return outbox.enqueue(
        row["personId"],
        row["definitionId"],
        identifier_type=row["identifierType"],
        properties=row["properties"],
        event_id=f"{tag}-{number}",
        **options,
    )


def enqueue(store_url: str, tag: str, count: int) -> None:
    with Outbox(store_url) as outbox:
        for number in range(count):
            enqueue_good(outbox, number, tag)


if __name__ == "__main__":
    enqueue(sys.argv[1], sys.argv[2], int(sys.argv[3]))
