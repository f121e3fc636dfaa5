"""Send one event, the seed's addToCart, and print what Infobip recorded.

Run it against the reference mock (`make mock` serves it on http://127.0.0.1:8080):

    python examples/send_one_event.py

Against the live API, set PEOPLE_EVENTS_BASE_URL (your https://<subdomain>.api.infobip.com) and
PEOPLE_EVENTS_API_KEY, and use a person and an event definition that exist in your account.
"""

from __future__ import annotations

import os

from people_events_client import PeopleEvents

BASE_URL = os.environ.get("PEOPLE_EVENTS_BASE_URL", "http://127.0.0.1:8080")
API_KEY = os.environ.get("PEOPLE_EVENTS_API_KEY", "mock-api-key")


def main() -> None:
    with PeopleEvents(BASE_URL, api_key=API_KEY) as people:
        event = people.send(
            "jane.doe@example.com",
            "addToCart",
            identifier_type="EMAIL",
            properties={
                "transactionId": "my-transaction-1",
                "fromPromoCampaign": True,
                "totalCost": 100,
                "itemsInCart": [
                    {"itemId": 1, "price": 25, "quantity": 3, "category": "clothes"},
                    {"itemId": 2, "price": 25, "quantity": 1, "category": "shoes"},
                ],
            },
            # Optional: your own id makes a resend of this very event harmless (Infobip records it once).
            # Without one, the client generates a UUID and keeps it across its own retries.
            event_id="order-1001-cart-1",
        )
    print(f"recorded {event.definition_id} event {event.event_id} at {event.occurred_time.isoformat()}")


if __name__ == "__main__":
    main()
