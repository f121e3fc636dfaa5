"""Factory fixtures for the facade: an injected clock and sleep, so retries never wait."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from people_events_client import AsyncPeopleEvents, PeopleEvents

BASE_URL = "https://api.infobip.com"
API_KEY = "unit-test-secret-key"


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_facade(clock: FakeClock) -> Callable[..., PeopleEvents]:
    def make(**options: Any) -> PeopleEvents:
        options.setdefault("rate_limit", None)
        return PeopleEvents(BASE_URL, API_KEY, _sleep=clock.sleep, _clock=clock, **options)

    return make


@pytest.fixture
def make_async_facade(clock: FakeClock) -> Callable[..., AsyncPeopleEvents]:
    def make(**options: Any) -> AsyncPeopleEvents:
        options.setdefault("rate_limit", None)
        return AsyncPeopleEvents(BASE_URL, API_KEY, _sleep=clock.asleep, _clock=clock, **options)

    return make
