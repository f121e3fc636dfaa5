"""The mock under load, bounded: scripts/load_mock.py with 50 keep-alive connections for 3 s, run as its own
process (its figures come back as JSON), against the mock in another process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

LOAD_MOCK = Path(__file__).resolve().parents[2] / "scripts" / "load_mock.py"


@pytest.mark.slow
def test_bounded_load_has_no_5xx_no_connection_errors_and_an_exact_limiter() -> None:
    """50 connections (25 per account) against the served mock for 3 s: only 201s and well-formed 429s, each
    connection opened once, no rolling second over 250 per account, and RSS grows only with stored events."""
    result = subprocess.run(
        [sys.executable, str(LOAD_MOCK), "--connections", "50", "--seconds", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["failures"] == []
    assert result.returncode == 0
    limit = report["rate_limit"]
    assert report["server_errors"] == 0
    assert report["connection_errors"] == 0
    assert report["connects"] == 50
    assert report["statuses"]["429"] > 0, "the load reached the limit"
    assert set(report["max_per_second"]) == {"A", "B"}
    assert all(0 < count <= limit for count in report["max_per_second"].values())
    assert all(accepted >= 2 * limit for accepted in report["accepted"].values())
    assert report["settled_growth"] <= report["allowed_growth"]
