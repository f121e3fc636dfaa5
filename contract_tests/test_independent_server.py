"""The contract suite tells a wrong server from a right one in live mode: against the independent server
(independent_server/), its correct mode passes within the live run's bounds, and every single-deviation variant is
caught by the checks it names. Runs the matrix (matrix.py) in parallel, each run bounded in time; the table is
`make mutants`.

Failures here are reported in one line per variant (which checks failed, how to replay it), never with the nested
run's output: a check that fails in the nested run also fails in this session, where it is printed once.
"""

from __future__ import annotations

from typing import Final

import pytest

from .independent_server.matrix import NAMED_PERSON, Run, caught, run_matrix
from .independent_server.variants import CORRECT, VARIANTS, Variant
from .live import DEFAULT_MAX_EVENTS

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("mock_target_only_module")]

#: The live-safe tests that must have run (and passed) against the correct server.
LIVE_CHECKS: Final = {
    "test_send_event_conforms_to_the_spec",
    "test_rate_limit_holds_for_requests_that_store_nothing",
    "test_every_documented_identifier_type_is_accepted",
    "test_body_shape_is_recorded_as_sent",
    "test_event_is_recorded_as_sent",
    "test_resending_an_event_id_returns_the_original_event",
    "test_wrong_credentials_raise_unauthorized",
}


def _replay(variant: str) -> str:
    return f"replay: make mutants VARIANTS={variant}"


@pytest.fixture(scope="module")
def runs(mock_target_only_module: None) -> dict[str, Run]:
    return {run.variant: run for run in run_matrix([CORRECT.name, *(variant.name for variant in VARIANTS)])}


def test_correct_server_passes_in_live_mode_within_its_bounds(runs: dict[str, Run]) -> None:
    """The correct server passes; the run stores between 1 and the default budget of events, all about the named
    person, creates nobody, and spends its budget on distinct checks: none is skipped or left unsent for budget."""
    run = runs[CORRECT.name]
    assert run.returncode == 0, f"the correct server fails {list(run.failures)} (exit {run.returncode}); " + _replay(
        CORRECT.name
    )
    summary = run.summary
    assert set(summary["passed_tests"]) >= LIVE_CHECKS, LIVE_CHECKS - set(summary["passed_tests"])
    assert 0 < len(run.stored) <= DEFAULT_MAX_EVENTS
    assert set(run.stored) == {NAMED_PERSON}
    assert run.created_persons == ()
    assert summary["cases_not_sent_for_budget"] == 0
    assert not [reason for reason in summary["skipped"] if "budget" in reason], summary["skipped"]
    assert summary["live"]["refused_by_budget"] == 0


@pytest.mark.parametrize("variant", VARIANTS, ids=[variant.name for variant in VARIANTS])
def test_variant_is_caught_in_live_mode(runs: dict[str, Run], variant: Variant) -> None:
    """The variant's run fails, among others at the checks the variant names; and even against a wrong server the
    live run stays within its budget of events."""
    run = runs[variant.name]
    assert caught(run, variant), (
        f"{variant.name} ({variant.deviation}) is not caught by {list(variant.caught_by)}: the run failed "
        f"{list(run.failures) or 'nothing'} (exit {run.returncode}); " + _replay(variant.name)
    )
    assert len(run.stored) <= DEFAULT_MAX_EVENTS
