"""Helpers of the facade tests: canned Infobip answers, and a driver that runs the sync or the async facade through
the same calls on an injected clock and sleep, so every table test covers both facades and retries never wait."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from people_events_client import AsyncPeopleEvents, EventResponse, PeopleEvents
from tests.support.clock import FakeClock
from tests.support.respx_router import API_KEY, BASE_URL

Facade = PeopleEvents | AsyncPeopleEvents
SEND_PATH = "/peopleevents/2/persons/1001/definitions/addToCart/events"


def envelope(message_id: str, text: str, **extra: object) -> dict[str, object]:
    return {"requestError": {"serviceException": {"messageId": message_id, "text": text, **extra}}}


def created(request: httpx.Request, **overrides: object) -> httpx.Response:
    """A 201 recording the event that ``request`` sent (its eventId echoed), as the live API answers."""
    body = json.loads(request.content or b"{}")
    event = {
        "eventId": body.get("eventId"),
        "definitionId": "addToCart",
        "occurredTime": "2026-11-26T12:00:00Z",
        "properties": body.get("properties"),
        "metadata": {"source": "API"},
        **overrides,
    }
    return httpx.Response(201, json=event)


def then_created(*first: httpx.Response | Exception) -> list[Any]:
    """A respx side effect: these outcomes in turn, then a 201 for the event sent (respx calls the callable)."""
    return [*first, created]


def sent_bodies(requests: list[httpx.Request]) -> list[dict[str, Any]]:
    return [json.loads(request.content) for request in requests]


class Driver:
    """Builds a sync or an async facade and drives it with the same calls (the async one on a loop of its own)."""

    def __init__(self, kind: str, clock: FakeClock) -> None:
        self.kind = kind
        self.clock = clock
        self.loop = asyncio.new_event_loop() if kind == "async" else None

    def facade(self, base_url: str = BASE_URL, api_key: str | None = API_KEY, **options: Any) -> Facade:
        """A facade with pacing off by default and the fake clock injected."""
        options.setdefault("rate_limit", None)
        if self.kind == "sync":
            return PeopleEvents(base_url, api_key, _sleep=self.clock.sleep, _clock=self.clock, **options)
        return AsyncPeopleEvents(base_url, api_key, _sleep=self.clock.asleep, _clock=self.clock, **options)

    def send(
        self, facade: Facade, person_id: str = "1001", definition_id: str = "addToCart", **options: Any
    ) -> EventResponse:
        options.setdefault("identifier_type", "ID")
        if isinstance(facade, PeopleEvents):
            return facade.send(person_id, definition_id, **options)
        assert self.loop is not None
        return self.loop.run_until_complete(facade.send(person_id, definition_id, **options))

    def close(self, facade: Facade) -> None:
        if isinstance(facade, PeopleEvents):
            facade.close()
        else:
            assert self.loop is not None
            self.loop.run_until_complete(facade.aclose())

    def mock_transport(self, handler: Any) -> dict[str, Any]:
        """``http_client_args`` with an httpx.MockTransport (it serves both kinds of client)."""
        return {"transport": httpx.MockTransport(handler)}
