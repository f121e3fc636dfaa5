"""Reading back what the reference mock stored, through its admin API (``GET /_mock/events``), page by page.

The one place that knows the listing's shape, so that a change of it is made here once. Pages are asked for with
``limit`` and ``after`` (the page's ``next`` cursor when it gives one, else its last eventId); a mock that does not
page answers every event at once, and that is read as one page.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

__all__ = ["EVENTS_PATH", "PAGE_SIZE", "astored_events", "stored_events"]

EVENTS_PATH: Final = "/_mock/events"
PAGE_SIZE: Final = 1000

Event = dict[str, Any]


def _first_params(filters: dict[str, str]) -> dict[str, str]:
    return {**filters, "limit": str(PAGE_SIZE)}


def _take(found: list[Event], page: dict[str, Any], params: dict[str, str]) -> dict[str, str] | None:
    """Add `page`'s events to `found`; return the next page's parameters, or None after the last page. A page that
    starts where the first one did means the mock ignored ``after`` (it does not page): it is not added again."""
    events: list[Event] = page["events"]
    if found and events[:1] == found[:1]:
        return None
    found += events
    if len(events) != PAGE_SIZE:
        return None
    return {**params, "after": str(page.get("next") or events[-1]["eventId"])}


def stored_events(client: httpx.Client, **filters: str) -> list[Event]:
    """Every stored event that matches `filters` (account, personId, definitionId, identifierType, eventId), in
    storage order, each with its account, person and ``acceptedAt``."""
    found: list[Event] = []
    params: dict[str, str] | None = _first_params(filters)
    while params is not None:
        response = client.get(EVENTS_PATH, params=params)
        response.raise_for_status()
        params = _take(found, response.json(), params)
    return found


async def astored_events(client: httpx.AsyncClient, **filters: str) -> list[Event]:
    """`stored_events` for an async client (e.g. on ``httpx.ASGITransport``, for the mock in-process)."""
    found: list[Event] = []
    params: dict[str, str] | None = _first_params(filters)
    while params is not None:
        response = await client.get(EVENTS_PATH, params=params)
        response.raise_for_status()
        params = _take(found, response.json(), params)
    return found
