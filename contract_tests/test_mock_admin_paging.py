"""Reading stored events back (tests.support.mock_admin) follows the admin API's pages, and reads a mock that does
not page as one page: against httpx.MockTransport listings of both kinds."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.mock_admin import PAGE_SIZE, astored_events, stored_events

EVENTS = [{"eventId": f"e-{index:05d}", "personId": "p"} for index in range(PAGE_SIZE * 2 + 7)]


def paging(request: httpx.Request) -> httpx.Response:
    """Pages of `limit` after the event named by `after` (or by a `next` cursor, which this listing also gives)."""
    limit = int(request.url.params["limit"])
    after = request.url.params.get("after")
    start = 0 if after is None else next(i for i, e in enumerate(EVENTS) if e["eventId"] == after) + 1
    page = EVENTS[start : start + limit]
    body: dict[str, Any] = {"count": len(page), "events": page}
    if start + limit < len(EVENTS):
        body["next"] = page[-1]["eventId"]
    return httpx.Response(200, json=body)


def not_paging(request: httpx.Request) -> httpx.Response:
    """A mock that ignores `limit` and `after`: every event, every time."""
    return httpx.Response(200, json={"count": len(EVENTS), "events": EVENTS})


def exactly_one_page(request: httpx.Request) -> httpx.Response:
    """A mock that ignores paging while holding exactly PAGE_SIZE events: the second ask repeats the first page."""
    return httpx.Response(200, json={"count": PAGE_SIZE, "events": EVENTS[:PAGE_SIZE]})


@pytest.mark.parametrize(
    ("handler", "expected"),
    [(paging, EVENTS), (not_paging, EVENTS), (exactly_one_page, EVENTS[:PAGE_SIZE])],
    ids=["paging", "not-paging", "one-full-page-not-paging"],
)
async def test_every_event_is_read_once(handler: Any, expected: list[dict[str, Any]]) -> None:
    with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://mock") as client:
        assert stored_events(client, personId="p") == expected
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://mock") as client:
        assert await astored_events(client, personId="p") == expected
