"""An application outbox: request handlers enqueue events (one local write, never the network), a background
drainer delivers them at the account's pace, and rejected events wait for a fix and a redrive.

    python examples/outbox.py [EVENTS]

The outbox is an SQLite file (OUTBOX_URL, default: a new file in a temporary folder). For PostgreSQL, set
OUTBOX_URL=postgresql://user@host/db after `people-events migrate postgresql://user@host/db`, and pass your own
connection to `enqueue(..., connection=conn)` to write inside your transaction (needs the postgres extra:
`pip install "infobip-people-events-client[postgres]"`).
"""

from __future__ import annotations

import os
import sys
import tempfile

from people_events_client.outbox import Outbox

BASE_URL = os.environ.get("PEOPLE_EVENTS_BASE_URL", "http://127.0.0.1:8080")
API_KEY = os.environ.get("PEOPLE_EVENTS_API_KEY", "mock-api-key")


def handle_checkout(outbox: Outbox, order: int) -> str:
    """What a request handler does: record the event durably and return at once."""
    return outbox.enqueue(
        "jane.doe@example.com",
        "addToCart",
        identifier_type="EMAIL",
        properties={"transactionId": f"order-{order}", "totalCost": 10 + order},
        event_id=f"checkout-order-{order}",  # your own id makes a retried request enqueue the same event
    )


def main(events: int = 20) -> int:
    store = os.environ.get("OUTBOX_URL") or f"sqlite://{tempfile.mkdtemp(prefix='outbox-')}/people-events.db"
    with Outbox(store, base_url=BASE_URL, api_key=API_KEY, rate_limit=250, max_pending=100_000) as outbox:
        outbox.start()  # a background thread drains while the application keeps enqueueing
        for order in range(events):
            handle_checkout(outbox, order)
        outbox.enqueue("new-customer-7", "addToCart", identifier_type="EXTERNAL_ID", event_id="unknown-person-7")
        if not outbox.flush(timeout=60):
            print("still pending after 60 s:", outbox.stats())
            return 1
        stats = outbox.stats()
        print(f"sent {stats.sent}, rejected {stats.rejected}, pending {stats.pending}")
        for record in outbox.rejected():
            print(f"rejected {record.event_id}: HTTP {record.status} {record.message_id} ({record.text})")
        # After fixing the cause (here: creating the person in Infobip), outbox.redrive(["unknown-person-7"])
        # queues it again with the same eventId; outbox.purge([...]) drops it for good.
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(argument) for argument in sys.argv[1:2])))
