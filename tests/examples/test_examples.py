"""Every script in examples/ runs as it is against the served reference mock, so an example that rots fails CI.

Each example runs in its own process (as a user would run it) against a fresh mock served on a free loopback port;
what it did is then read back from the mock. A new example needs an entry in EXPECTED, or this test fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from people_events_mock.pytest_plugin import MockServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
RUN_TIMEOUT_SECONDS = 120


@dataclass(frozen=True, slots=True)
class Expectation:
    """How to run one example and what the mock must hold afterwards."""

    check: Callable[[MockServer, str], None]
    args: tuple[str, ...] = ()
    with_pytest: bool = False
    needs_redis: bool = False
    env: dict[str, str] = field(default_factory=dict)


def one_seed_event(mock: MockServer, output: str) -> None:
    [event] = mock.events(account="A")
    assert (event.person.person_id, event.event_id, event.definition_id) == (
        "jane.doe@example.com",
        "order-1001-cart-1",
        "addToCart",
    )
    assert event.properties is not None
    assert event.properties["transactionId"] == "my-transaction-1"
    assert event.event_id in output


def fifty_distinct_events(mock: MockServer, output: str) -> None:
    events = mock.events(account="A")
    assert sorted(event.event_id for event in events) == sorted(f"order-{n}-cart" for n in range(50))
    assert "sent 50 of 50 events" in output


def nothing_stored_and_every_error_shown(mock: MockServer, output: str) -> None:
    assert mock.events() == []  # every case was refused or failed before storing
    for error in ("BadRequest", "Unauthorized", "Forbidden", "NotFound", "RateLimited", "ServerError"):
        assert f": {error}" in output
    assert ": TransportError" in output
    assert ": ValueError" in output


def fleet_shared_one_budget(mock: MockServer, output: str) -> None:
    events = mock.events(account="A")
    assert len(events) == 30
    assert len({event.event_id for event in events}) == 30
    # 30 events at a shared 10/s cannot be accepted within 2 s; with a budget per process (3 x 10/s) all 30 would
    # be accepted at once. Server acceptance times, not the example's clock; slack for a loaded machine.
    accepted = sorted(event.accepted_at for event in events)
    assert accepted[-1] - accepted[0] >= 1.5


def own_mock_only(mock: MockServer, output: str) -> None:
    assert mock.events() == []  # the example's tests served mocks of their own
    assert "3 passed" in output


def outbox_delivered_and_kept_the_rejected(mock: MockServer, output: str) -> None:
    events = mock.events(account="A")
    assert sorted(event.event_id for event in events) == sorted(f"checkout-order-{n}" for n in range(12))
    assert "sent 12, rejected 1, pending 0" in output
    assert "rejected unknown-person-7: HTTP 404 NOT_FOUND" in output


def backfill_sent_once_with_one_dead_letter(mock: MockServer, output: str) -> None:
    events = mock.events(account="A")
    assert len(events) == len({event.event_id for event in events}) == 15
    assert {(event.properties or {})["transactionId"] for event in events} == {f"backfill-{n}" for n in range(15)}
    assert "16 rows, 0 with problems" in output
    assert "dead letter, line 16: HTTP 404 nobody" in output
    assert "this run: 0 sent" in output  # the second run of the same file sent nothing


EXPECTED: dict[str, Expectation] = {
    "send_one_event.py": Expectation(one_seed_event),
    "async_concurrent_sends.py": Expectation(fifty_distinct_events, args=("50",)),
    "handle_errors.py": Expectation(nothing_stored_and_every_error_shown),
    "fleet_pacing_with_redis.py": Expectation(fleet_shared_one_budget, args=("3", "10", "10"), needs_redis=True),
    "test_with_the_mock.py": Expectation(own_mock_only, with_pytest=True),
    "outbox.py": Expectation(outbox_delivered_and_kept_the_rejected, args=("12",)),
    "bulk_send_cli.py": Expectation(backfill_sent_once_with_one_dead_letter, args=("15",)),
}


def test_every_example_has_an_expectation() -> None:
    assert sorted(path.name for path in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_against_the_served_mock(
    name: str, people_events_mock: MockServer, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    expectation = EXPECTED[name]
    env = {**os.environ, "PEOPLE_EVENTS_BASE_URL": people_events_mock.base_url, **expectation.env}
    env.pop("PEOPLE_EVENTS_API_KEY", None)  # the examples' default is the mock's key
    if expectation.needs_redis:
        env["REDIS_URL"] = request.getfixturevalue("redis_server").url
    script = str(EXAMPLES / name)
    if expectation.with_pytest:
        command = [sys.executable, "-m", "pytest", script, "-q", "-p", "no:cacheprovider"]
    else:
        command = [sys.executable, script, *expectation.args]
    # cwd: the repository for pytest (its config), elsewhere for scripts, which must not depend on where they run.
    cwd = ROOT if expectation.with_pytest else tmp_path
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    expectation.check(people_events_mock, result.stdout)
