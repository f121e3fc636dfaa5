"""The reference mock's admin API for tests and benchmarks: the one read-back of stored events, and faults.

Every delivery test and benchmark reads events back through `stored_events`, so a change to
`GET /_mock/events` (e.g. paging with ``limit``/``after``) is handled here, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

TIMEOUT_SECONDS = 60.0


def stored_events(base_url: str, *, account: str = "A", **filters: str) -> list[dict[str, Any]]:
    """Every event the mock stored for `account` (with optional filters: personId=, eventId=, ...), in storage order,
    each with its account, person and ``acceptedAt``."""
    response = httpx.get(f"{base_url}/_mock/events", params={"account": account, **filters}, timeout=TIMEOUT_SECONDS)
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def stored_count(base_url: str, *, account: str = "A") -> int:
    """How many events the mock stored for `account`."""
    return len(stored_events(base_url, account=account))


def set_faults(base_url: str, faults: Mapping[str, float]) -> None:
    """Switch on each fault with its probability, in order (the mock tries them in this order)."""
    for fault, probability in faults.items():
        response = httpx.put(
            f"{base_url}/_mock/faults", json={"fault": fault, "probability": probability}, timeout=TIMEOUT_SECONDS
        )
        response.raise_for_status()


def clear_faults(base_url: str) -> None:
    httpx.delete(f"{base_url}/_mock/faults", timeout=TIMEOUT_SECONDS).raise_for_status()


def reset(base_url: str) -> None:
    """Back to the fixtures: no events, no faults."""
    httpx.post(f"{base_url}/_mock/reset", timeout=TIMEOUT_SECONDS).raise_for_status()


def send_event_requests(log_path: Path) -> int:
    """How many Send Event requests a mock served with ``log_level="info"`` has logged (one access-log line each):
    what reached the server, replays and failures included."""
    return log_path.read_text(encoding="utf-8", errors="replace").count("POST /peopleevents/")
