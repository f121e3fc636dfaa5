"""A drainer in a process of its own, for multi-process delivery tests (one of them gets SIGKILL).

    python -m tests.support.drain_worker STORE BASE_URL [--rate N] [--lease SECONDS] [--redis URL]

Drains the SQLite store at STORE through account A of the mock at BASE_URL until nothing is pending, then exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from people_events_client import AsyncPeopleEvents, redis_limiter
from people_events_client.delivery import Drainer, SQLiteStore
from tests.support.bulk import API_KEY


async def drain(store_path: str, base_url: str, *, rate: int, lease: float, redis_url: str | None) -> None:
    limiter: Any = None
    if redis_url is not None:
        limiter = redis_limiter(redis_url, rate_limit=rate)
    store = SQLiteStore(store_path)
    async with AsyncPeopleEvents(base_url, API_KEY, rate_limit=rate, limiter=limiter) as people:
        await Drainer(store, people, concurrency=16, lease_seconds=lease).run()
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("base_url")
    parser.add_argument("--rate", type=int, default=250)
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--redis")
    args = parser.parse_args()
    asyncio.run(drain(args.store, args.base_url, rate=args.rate, lease=args.lease, redis_url=args.redis))


if __name__ == "__main__":
    main()
