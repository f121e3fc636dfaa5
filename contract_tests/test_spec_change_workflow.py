"""The spec-change workflow (spec_changes.py): five realistic changes of openapi.yaml, each in a temporary copy of
the repository, regenerated and tested there. Each passes with no hand edit, or fails with exactly one message that
names the file to edit and why; a new request field the facade cannot send fails, naming send(). The changes run in
parallel (two at a time), each bounded in time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Final

import pytest

from .spec_changes import CHANGES, Change, Outcome, copy_repository, run_step

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("mock_target_only_module")]

WORKERS: Final = 2


@pytest.fixture(scope="module")
def outcomes(mock_target_only_module: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Outcome]]:
    """Every change's steps, run in a copy of the repository of its own."""
    pycache = tmp_path_factory.mktemp("pycache")

    def run(change: Change) -> list[Outcome]:
        repository = copy_repository(tmp_path_factory.mktemp(change.id))
        return [run_step(repository, step, pycache) for step in change.steps]

    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(zip([change.id for change in CHANGES], pool.map(run, CHANGES), strict=True))


def _shown(outcome: Outcome) -> str:
    failures = "\n".join(f"  {name}: {message}" for name, message in outcome.failures.items())
    return f"exit {outcome.returncode}, {outcome.passed} passed, {len(outcome.failures)} failed:\n{failures}"


def _params() -> list[object]:
    """Every change (the mock reads its identifier types from openapi.yaml, so a new one needs no other edit)."""
    return [pytest.param(change, id=change.id) for change in CHANGES]


@pytest.mark.parametrize("change", _params())
def test_spec_change_passes_or_names_the_file_to_edit(outcomes: dict[str, list[Outcome]], change: Change) -> None:
    for number, (step, outcome) in enumerate(zip(change.steps, outcomes[change.id], strict=True), start=1):
        where = f"{change.id}, step {number} ({change.summary})"
        assert outcome.passed > 0, f"{where}: nothing ran: {outcome.output_tail}"
        if not step.names:
            assert outcome.returncode == 0, f"{where} must pass with no hand edit: {_shown(outcome)}"
            continue
        assert len(outcome.failures) == 1, f"{where} must fail with one message: {_shown(outcome)}"
        message = next(iter(outcome.failures.values()))
        assert [name for name in step.names if name not in message] == [], f"{where}: {message}"
