"""The mock under load, bounded: scripts/load_mock.py with 50 keep-alive connections for 3 s."""

from __future__ import annotations

import pytest
from load_mock import RATE_LIMIT, run


@pytest.mark.slow
def test_bounded_load_has_no_5xx_no_connection_errors_and_an_exact_limiter() -> None:
    """50 connections (25 per account) against the served mock for 3 s: only 201s and well-formed 429s, each
    connection opened once, no rolling second over 250 per account, and RSS grows only with stored events."""
    report = run(connections=50, seconds=3.0)
    assert report.failures() == []
    assert report.server_errors == 0
    assert report.connection_errors == 0
    assert report.connects == 50
    assert report.statuses[429] > 0, "the load reached the limit"
    assert set(report.max_per_second) == {"A", "B"}
    assert all(0 < count <= RATE_LIMIT for count in report.max_per_second.values())
    assert all(accepted >= 2 * RATE_LIMIT for accepted in report.accepted.values())
    assert report.settled_growth <= report.allowed_growth
