"""Fixtures shared by the contract tests, and the contract summary at the end of the run.

The target (`contract_target`) is chosen by ``CONTRACT_TARGET`` (see targets.py). Tests that check the
reference mock itself use `mock_target_only`, which skips them on a live target and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from people_events_mock import create_app

from .ratelimit import MockClock
from .report import REPORT
from .spec import SPEC_PATH
from .targets import MOCK_ONLY_REASON, TARGET_KIND, Target, TargetKind, open_target

_SUMMARY_SUFFIX = ".summary.txt"


@pytest.fixture
def openapi_path() -> Path:
    """The hand-authored spec, openapi.yaml."""
    return SPEC_PATH


@pytest.fixture
def mock_app() -> Callable[..., Starlette]:
    """Factory of fresh reference mocks: ``mock_app(rate_limit=..., clock=...)`` takes create_app's keywords."""

    def make(**options: Any) -> Starlette:
        return create_app(**options)

    return make


@pytest.fixture(scope="session")
def contract_target() -> Iterator[Target]:
    """This run's target (CONTRACT_TARGET), opened once per session: the served mock starts here."""
    with open_target() as target:
        REPORT.target = target.description
        REPORT.guard = target.guard
        yield target


@pytest.fixture
def mock_target_only() -> None:
    """Skip on a live target: the test checks the reference mock itself."""
    if TARGET_KIND is TargetKind.LIVE:
        pytest.skip(MOCK_ONLY_REASON)


@pytest.fixture
def mock_clock() -> MockClock:
    """A fresh `MockClock` for ``create_app(clock=...)``."""
    return MockClock()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the contract summary (and write it beside the JUnit XML) when contract tests ran."""

    def ours(reports: list[Any]) -> list[pytest.TestReport]:
        return [r for r in reports if isinstance(r, pytest.TestReport) and r.nodeid.startswith("contract_tests/")]

    stats = terminalreporter.stats
    passed = len([r for r in ours(stats.get("passed", [])) if r.when == "call"])
    failed = ours(stats.get("failed", [])) + ours(stats.get("error", []))
    skipped = ours(stats.get("skipped", []))
    if not (passed or failed or skipped):
        return
    lines = REPORT.render(passed, failed, skipped)
    terminalreporter.section("contract summary")
    for line in lines:
        terminalreporter.write_line(line)
    xmlpath = getattr(config.option, "xmlpath", None)
    if xmlpath:
        summary = Path(xmlpath).with_suffix(_SUMMARY_SUFFIX)
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.write_text("\n".join(lines) + "\n")
