"""Send many events concurrently with asyncio; the client paces them under the account's 250 requests/second.

    python examples/async_concurrent_sends.py [COUNT]        (default: 100 events)

Every task shares one `AsyncPeopleEvents` (one connection pool, one rate budget). Each event carries an eventId
derived from your own data, so running the script twice records nothing twice.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from people_events_client import AsyncPeopleEvents, EventResponse, PeopleEventsError

BASE_URL = os.environ.get("PEOPLE_EVENTS_BASE_URL", "http://127.0.0.1:8080")
API_KEY = os.environ.get("PEOPLE_EVENTS_API_KEY", "mock-api-key")


async def send_cart(people: AsyncPeopleEvents, order: int) -> EventResponse:
    return await people.send(
        "jane.doe@example.com",
        "addToCart",
        identifier_type="EMAIL",
        properties={"transactionId": f"order-{order}", "totalCost": order},
        event_id=f"order-{order}-cart",
    )


async def main(count: int) -> int:
    started = time.monotonic()
    async with AsyncPeopleEvents(BASE_URL, api_key=API_KEY) as people:
        # return_exceptions=True: one failed event does not cancel the others; report it and go on.
        results = await asyncio.gather(*(send_cart(people, order) for order in range(count)), return_exceptions=True)
    failed = [result for result in results if isinstance(result, BaseException)]
    for error in failed:
        kind = type(error).__name__ if isinstance(error, PeopleEventsError) else "unexpected " + type(error).__name__
        print(f"failed: {kind}: {error}", file=sys.stderr)
    print(f"sent {count - len(failed)} of {count} events in {time.monotonic() - started:.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)))
