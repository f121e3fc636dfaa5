"""Fixtures shared by the contract tests, and the contract summary at the end of the run.

The target (`contract_target`) is chosen by ``CONTRACT_TARGET`` (see targets.py). Tests that check the
reference mock itself use `mock_target_only`, which skips them on a live target and says why.

While openapi.yaml and what is built from it disagree (sync.py: test_spec.py and test_spec_sync.py say where),
every other contract test waits (skips, naming the file to edit), so that one change of the spec fails with one
message per file to edit, not with every consequence of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from starlette.applications import Starlette

from people_events_mock import create_app
from tests.support.clock import FakeClock

from .report import REPORT
from .spec import SPEC_PATH
from .sync import CLIENT_CHECKS, REFERENCE_CHECKS, first_drift
from .targets import MOCK_ONLY_REASON, TARGET_KIND, Target, TargetKind, open_target

#: The summary is written beside the JUnit XML, as text and (for tools: the mutant matrix) as JSON.
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


@pytest.fixture(scope="module")
def mock_target_only_module() -> None:
    """`mock_target_only` for a module whose module-scoped fixtures must not even start on a live target (pytest
    sets up wider-scoped fixtures first)."""
    if TARGET_KIND is TargetKind.LIVE:
        pytest.skip(MOCK_ONLY_REASON)


@pytest.fixture
def mock_clock() -> FakeClock:
    """A fresh `FakeClock` for ``create_app(clock=...)``."""
    return FakeClock()


#: The modules that say where openapi.yaml and what is built from it disagree: they never wait.
_SYNC_MODULES: Final = frozenset({"test_spec.py", "test_spec_sync.py"})


@pytest.fixture(autouse=True)
def _wait_for_the_spec_to_be_followed(request: pytest.FixtureRequest) -> None:
    if request.node.path.name in _SYNC_MODULES:
        return
    # A live run does not depend on the reference mock following the spec.
    layers = (REFERENCE_CHECKS, CLIENT_CHECKS) if TARGET_KIND is TargetKind.LIVE else ()
    drift = first_drift(*layers)
    if drift is not None:
        pytest.skip(f"waits until {drift.file} follows openapi.yaml (test_spec.py and test_spec_sync.py say why)")


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
        facts = REPORT.as_json(failed, skipped)
        facts["passed_tests"] = sorted(
            {r.nodeid.split("::")[-1].split("[")[0] for r in ours(stats.get("passed", [])) if r.when == "call"}
        )
        summary.with_suffix(".json").write_text(json.dumps(facts, indent=2) + "\n")
