"""Fixtures of the client tests: the injected clock, and the driver that runs each test with both facades."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.clock import FakeClock
from tests.support.facades import Driver


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[Driver]:
    """Every test that takes it runs once with PeopleEvents and once with AsyncPeopleEvents."""
    driver = Driver(request.param, clock)
    yield driver
    if driver.loop is not None:
        driver.loop.close()
