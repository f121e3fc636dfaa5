"""Exactly-once under chaos, bounded: scripts/chaos.py as its own process, with a few hundred events and twice its
default fault probabilities; and the exactly-once accounting it relies on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from people_events_mock.testing import duplicates_and_lost, max_per_rolling_second

CHAOS = Path(__file__).resolve().parents[2] / "scripts" / "chaos.py"


def test_the_accounting_counts_extra_copies_and_unknown_events_as_duplicates_and_missing_ones_as_lost() -> None:
    """The invariant check is not vacuous: a second copy and a stray eventId are duplicates, a gap is lost."""
    expected = {("ID", "1001", "a"), ("ID", "1001", "b"), ("ID", "1001", "c")}
    stored = [("ID", "1001", "a"), ("ID", "1001", "a"), ("ID", "1001", "b"), ("ID", "1001", "x")]
    assert duplicates_and_lost(stored, expected) == (2, 1)
    assert duplicates_and_lost([("ID", "1001", key) for key in "abc"], expected) == (0, 0)


@pytest.mark.parametrize(
    ("times", "expected"),
    [([], 0), ([0.0, 0.5, 0.999], 3), ([0.0, 0.5, 1.0], 2), ([0.0, 1.0, 2.0, 2.5], 2)],
    ids=["none", "within-a-second", "one-second-apart-is-two-windows", "spread"],
)
def test_max_per_rolling_second(times: list[float], expected: int) -> None:
    assert max_per_rolling_second(times) == expected


@pytest.mark.slow
def test_bounded_chaos_run_stores_every_event_exactly_once() -> None:
    """300 events from 4 threads and 8 asyncio tasks against the served mock (250/s) with every fault kind on:
    0 duplicates, 0 lost, nothing but typed errors, every caller's eventId kept."""
    result = subprocess.run(
        [sys.executable, str(CHAOS), "--events", "300", "--threads", "4", "--tasks", "8", "--max-seconds", "60",
         "--fault-scale", "2", "--json"],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert (report["duplicates"], report["lost"]) == (0, 0)
    assert report["events"] == 300
    assert report["returned"] + sum(report["raised"].values()) == 300
    assert report["escaped"] == []
    assert report["wrong_event_ids"] == 0
    assert report["resend_failures"] == []
    assert report["max_per_rolling_second"] <= 250
    kinds = {kind for kind in report["attempts"] if kind not in ("201", "429 rate limit (real)")}
    assert len(kinds) >= 5, f"the faults fired: {report['attempts']}"
    assert report["faults_observed"] >= 0.15 * report["total_attempts"]
