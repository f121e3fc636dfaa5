"""Exactly-once under chaos, bounded: scripts/chaos.py with a few hundred events and more faults than its default."""

from __future__ import annotations

from typing import Any

import pytest
from chaos import Report, _count_duplicates_and_lost, max_per_rolling_second, print_report, run

# Twice the default probabilities, so that a few sends exhaust their retries and the re-send phase has work.
BOUNDED_FAULTS = {
    "500": 0.06,
    "html-502": 0.06,
    "reset": 0.06,
    "empty-429": 0.06,
    "delay=1500": 0.02,
    "delay=200": 0.06,
    "500-after-store": 0.06,
    "reset-after-store": 0.06,
}


def event(identifier_type: str, person_id: str, event_id: str) -> dict[str, Any]:
    return {"person": {"identifierType": identifier_type, "personId": person_id}, "eventId": event_id}


def test_checker_counts_extra_copies_and_unknown_events_as_duplicates_and_missing_ones_as_lost() -> None:
    """The invariant check is not vacuous: a second copy and a stray eventId are duplicates, a gap is lost."""
    known = {("ID", "1001", "a"), ("ID", "1001", "b"), ("ID", "1001", "c")}
    stored = [event("ID", "1001", "a"), event("ID", "1001", "a"), event("ID", "1001", "b"), event("ID", "1001", "x")]
    assert _count_duplicates_and_lost(stored, known) == (2, 1)
    assert _count_duplicates_and_lost([event("ID", "1001", k) for k in "abc"], known) == (0, 0)


@pytest.mark.parametrize(
    ("times", "expected"),
    [([], 0), ([0.0, 0.5, 0.999], 3), ([0.0, 0.5, 1.0], 2), ([0.0, 1.0, 2.0, 2.5], 2)],
    ids=["none", "within-a-second", "one-second-apart-is-two-windows", "spread"],
)
def test_max_per_rolling_second(times: list[float], expected: int) -> None:
    assert max_per_rolling_second(times) == expected


@pytest.mark.slow
def test_bounded_chaos_run_stores_every_event_exactly_once(capsys: pytest.CaptureFixture[str]) -> None:
    """300 events from 4 threads and 8 asyncio tasks against the served mock (250/s) with every fault kind on:
    0 duplicates, 0 lost, nothing but typed errors, every caller's eventId kept."""
    report: Report = run(events=300, threads=4, tasks=8, max_seconds=60, faults=BOUNDED_FAULTS)
    print_report(report)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2:] == ["duplicates: 0", "lost: 0"]
    assert report.events == 300
    assert report.returned + sum(report.raised.values()) == 300
    assert report.escaped == []
    assert report.wrong_event_ids == 0
    assert report.resend_failures == []
    assert report.max_per_rolling_second <= 250
    kinds = {kind for kind in report.attempts if kind not in ("201", "429 rate limit (real)")}
    assert len(kinds) >= 5, f"the faults fired: {report.attempts}"
    assert report.faults_observed >= 0.15 * report.total_attempts
    assert report.ok
