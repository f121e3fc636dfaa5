"""The reference mock in its own process for the delivery tests: one per module, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from people_events_mock.testing import MockProcess, mock_process
from tests.support.mock_admin import reset


@pytest.fixture(scope="module")
def mock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockProcess]:
    """`python -m people_events_mock` on a free loopback port, account A at 250/s, logging every request."""
    log_path = tmp_path_factory.mktemp("mock") / "mock.log"
    with mock_process(log_level="info", log_path=log_path) as mock:
        yield mock


@pytest.fixture
def mock(mock_server: MockProcess) -> MockProcess:
    """The module's mock, back to its fixtures: no events, no faults."""
    reset(mock_server.base_url)
    return mock_server
