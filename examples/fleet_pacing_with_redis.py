"""Fleet-wide pacing: several processes (or hosts) share one account's rate budget through Redis.

    REDIS_URL=redis://127.0.0.1:6379/0 python examples/fleet_pacing_with_redis.py [PROCESSES] [EVENTS_EACH] [RATE]

Each process builds its own client with `limiter=redis_limiter(...)`; the budget is named after the credential (a
SHA-256, never the raw key), so every process that uses the same API key draws from the same budget in Redis. If
Redis goes away, each process falls back to in-process pacing, warns once, and tries Redis again later.
Needs the redis extra: `pip install "infobip-people-events-client[redis]"`.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time

from people_events_client import PeopleEvents, redis_limiter

BASE_URL = os.environ.get("PEOPLE_EVENTS_BASE_URL", "http://127.0.0.1:8080")
API_KEY = os.environ.get("PEOPLE_EVENTS_API_KEY", "mock-api-key")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def worker(name: int, events: int, rate: int) -> None:
    """One process of the fleet: its own Redis connection, its own client, the shared budget."""
    limiter = redis_limiter(REDIS_URL, rate_limit=rate)  # every Redis call bounded (0.5 s), never blocking your loop
    with PeopleEvents(BASE_URL, api_key=API_KEY, rate_limit=rate, limiter=limiter) as people:
        for n in range(events):
            people.send(
                "jane.doe@example.com",
                "addToCart",
                identifier_type="EMAIL",
                properties={"transactionId": f"worker-{name}-{n}"},
                event_id=f"fleet-{name}-{n}",
            )


def main(processes: int = 3, events_each: int = 20, rate: int = 20) -> int:
    started = time.monotonic()
    fleet = [multiprocessing.Process(target=worker, args=(name, events_each, rate)) for name in range(processes)]
    for process in fleet:
        process.start()
    for process in fleet:
        process.join()
    elapsed = time.monotonic() - started
    total = processes * events_each
    print(f"{processes} processes sent {total} events in {elapsed:.2f} s, sharing {rate} requests/second")
    return 0 if all(process.exitcode == 0 for process in fleet) else 1


if __name__ == "__main__":
    sys.exit(main(*(int(argument) for argument in sys.argv[1:4])))
