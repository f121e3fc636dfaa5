"""The reference mock's admin API for tests and benchmarks: the one read-back of stored events, faults and reset.

Every suite reads stored events through `stored_events`/`astored_events`, so a change to ``GET /_mock/events`` is
made here once. Pages are asked for with ``limit`` and ``after`` (the page's ``next`` cursor when it gives one, else
its last eventId); a mock that does not page answers every event at once, and that is read as one page.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import httpx

__all__ = [
    "EVENTS_PATH",
    "PAGE_SIZE",
    "add_person",
    "astored_events",
    "clear_faults",
    "reset",
    "send_event_requests",
    "set_fault",
    "set_faults",
    "stored_count",
    "stored_events",
]

EVENTS_PATH: Final = "/_mock/events"
PAGE_SIZE: Final = 1000
TIMEOUT_SECONDS: Final = 60.0

Event = dict[str, Any]


def _first_params(filters: Mapping[str, str]) -> dict[str, str]:
    return {**filters, "limit": str(PAGE_SIZE)}


def _take(found: list[Event], page: dict[str, Any], params: dict[str, str]) -> dict[str, str] | None:
    """Add `page`'s events to `found`; return the next page's parameters, or None after the last page. A page that
    starts where the first one did means the mock ignored ``after`` (it does not page): it is not added again."""
    events: list[Event] = page["events"]
    if found and events[:1] == found[:1]:
        return None
    found += events
    if "next" in page:  # a paging mock says where the next page starts (a page may be short: it caps bytes too)
        return None if page["next"] is None else {**params, "after": str(page["next"])}
    if len(events) != PAGE_SIZE:
        return None
    return {**params, "after": str(events[-1]["eventId"])}


def stored_events(target: str | httpx.Client, **filters: str) -> list[Event]:
    """Every stored event that matches `filters` (account, personId, definitionId, identifierType, eventId), in
    storage order, each with its account, person and ``acceptedAt``. `target` is the mock's base URL or a client
    on it."""
    client = httpx.Client(base_url=target, timeout=TIMEOUT_SECONDS) if isinstance(target, str) else target
    try:
        found: list[Event] = []
        params: dict[str, str] | None = _first_params(filters)
        while params is not None:
            response = client.get(EVENTS_PATH, params=params)
            response.raise_for_status()
            params = _take(found, response.json(), params)
        return found
    finally:
        if isinstance(target, str):
            client.close()


async def astored_events(client: httpx.AsyncClient, **filters: str) -> list[Event]:
    """`stored_events` for an async client (e.g. on ``httpx.ASGITransport``, for the mock in-process)."""
    found: list[Event] = []
    params: dict[str, str] | None = _first_params(filters)
    while params is not None:
        response = await client.get(EVENTS_PATH, params=params)
        response.raise_for_status()
        params = _take(found, response.json(), params)
    return found


def stored_count(base_url: str, *, account: str = "A") -> int:
    """How many events the mock stored for `account`."""
    return len(stored_events(base_url, account=account))


def set_fault(base_url: str, fault: str, *, probability: float | None = None, next: int | None = None) -> None:
    """Inject a fault for later requests: with a probability, or for the next N eligible requests."""
    body: dict[str, Any] = {"fault": fault}
    if probability is not None:
        body["probability"] = probability
    if next is not None:
        body["next"] = next
    httpx.put(f"{base_url}/_mock/faults", json=body, timeout=TIMEOUT_SECONDS).raise_for_status()


def set_faults(base_url: str, faults: Mapping[str, float]) -> None:
    """Switch on each fault with its probability, in order (the mock tries them in this order)."""
    for fault, probability in faults.items():
        set_fault(base_url, fault, probability=probability)


def add_person(base_url: str, *, account: str, identifier_type: str, person_id: str) -> None:
    """Create a person in `account` (the mock's fixtures have one per identifier type)."""
    body = {"account": account, "identifierType": identifier_type, "personId": person_id}
    httpx.post(f"{base_url}/_mock/persons", json=body, timeout=TIMEOUT_SECONDS).raise_for_status()


def clear_faults(base_url: str) -> None:
    httpx.delete(f"{base_url}/_mock/faults", timeout=TIMEOUT_SECONDS).raise_for_status()


def reset(base_url: str) -> None:
    """Back to the fixtures: no events, no faults."""
    httpx.post(f"{base_url}/_mock/reset", timeout=TIMEOUT_SECONDS).raise_for_status()


def send_event_requests(log_path: Path) -> int:
    """How many Send Event requests a mock served with ``log_level="info"`` has logged (one access-log line each):
    what reached the server, replays and failures included."""
    return log_path.read_text(encoding="utf-8", errors="replace").count("POST /peopleevents/")
