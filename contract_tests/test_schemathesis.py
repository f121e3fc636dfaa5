"""Schemathesis fuzzes Send Event on this run's target and must find nothing.

Every built-in check plus ours (checks.py), positive and negative modes, the examples, coverage and
fuzzing phases; the settings are in schemathesis.toml at the repository root. On the reference mock the
fuzzing account F (limit 1,000,000/s) keeps 429 from hiding results; missing and invalid credentials are
probed by `ignored_auth` on every accepted case. Cases are seeded with real ids (fuzzing.py), so a good
share reach 201. Faults stay out: no X-Mock-Fault header is ever sent, and the mock has no fault rules.

After the run, two tests read what it saw: at most 3% of responses may be 429 (throttling would hide
results), and on the mock at least 10% must be 201 (seeding works). Statuses and per-check counts are in
the contract summary at the end of the session.

On live, positive cases that would store an event of a shape already stored (no properties, null, {} or the
known-good ones, with or without an eventId, with the same fields) are not sent again: the event budget goes to
distinct checks. Cases with other properties are always sent (the definition's validation answers most of them
with a 400, which stores nothing).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Final

import hypothesis
import pytest
from schemathesis import Case
from schemathesis.checks import CheckResult
from schemathesis.core.transport import Response

from . import checks  # noqa: F401  (registers our checks with schemathesis)
from .checks import KNOWN, same_properties
from .fuzzing import load_schema
from .report import REPORT
from .targets import LIVE, MOCK_ONLY_REASON, TARGET_KIND, Target, TargetKind, inprocess_app, target_seeds

#: Throttled responses hide results: fail the run above this share of 429s.
MAX_THROTTLED_SHARE: Final = 0.03
#: On the mock, seeding must make at least this share of responses 201.
MIN_CREATED_SHARE: Final = 0.10
#: A case may send this many requests that need a live budget slot: itself, two auth probes, one replay.
REQUESTS_PER_CASE: Final = 4
#: On live, positive cases (which store events) stop this many slots early, so that negative cases (answered
#: 4xx, which gives the slot back) still run once the positive ones have used their share of the budget.
NEGATIVE_CASES_RESERVE: Final = 10

schema = load_schema(
    app=inprocess_app() if TARGET_KIND is TargetKind.INPROCESS else None, seeds=target_seeds(), live=LIVE
)
# Under Hypothesis's CI profile (CI=true) a run is derandomized, unless a seed is given (CONTRACT_SEED).
_DERANDOMIZED = hypothesis.settings.default is not None and hypothesis.settings.default.derandomize
REPORT.seed = None if _DERANDOMIZED and not schema.config.has_explicit_seed else schema.config.seed


@schema.hook
def after_validate(context: Any, case: Case[Any], response: Response, results: list[CheckResult]) -> None:
    """Count each check's outcome for the contract summary."""
    REPORT.record_results(results)


#: Shapes of positive cases already sent on live (see the module docstring).
_SENT_SHAPES: set[Hashable] = set()


def _stored_shape(case: Case[Any]) -> Hashable | None:
    """What an accepted positive case would store, when it is a shape that can repeat; None for other properties."""
    body = case.body if isinstance(case.body, dict) else {}
    properties = body.get("properties")
    if properties and not same_properties(properties, KNOWN.properties):
        return None
    kind = "known" if properties else repr(properties) if "properties" in body else "absent"
    return kind, isinstance(body.get("eventId"), str), tuple(sorted(body))


@pytest.mark.live_safe
@schema.parametrize()
def test_send_event_conforms_to_the_spec(case: Case[Any], contract_target: Target) -> None:
    if contract_target.guard is not None:
        positive = case.meta is not None and case.meta.generation.mode.is_positive
        shape = _stored_shape(case) if positive else None
        if shape is not None and shape in _SENT_SHAPES:
            REPORT.repeated_shapes += 1
            return
        if contract_target.guard.remaining < REQUESTS_PER_CASE + (NEGATIVE_CASES_RESERVE if positive else 0):
            REPORT.not_sent += 1
            return
        _SENT_SHAPES.add(shape)
    if case.headers:
        case.headers.pop("X-Mock-Fault", None)
    kwargs = contract_target.call_kwargs()
    response = case.call(**kwargs)
    REPORT.statuses[response.status_code] += 1
    case.validate_response(response, transport_kwargs=kwargs)


def _require_fuzzing_run() -> None:
    if not REPORT.responses:
        pytest.skip("needs test_send_event_conforms_to_the_spec in the same run")


@pytest.mark.live_safe
def test_fuzzing_was_not_throttled() -> None:
    """Fewer than 3% of the fuzzing responses were 429: throttling did not hide results."""
    _require_fuzzing_run()
    assert REPORT.share(429) <= MAX_THROTTLED_SHARE, (
        f"{REPORT.statuses[429]} of {REPORT.responses} responses were 429: fuzz with an account whose limit is high"
    )


def test_seeding_makes_a_good_share_of_cases_reach_201() -> None:
    """Seeded with fixture ids, at least 10% of the cases reach 201 on the reference mock."""
    if TARGET_KIND is TargetKind.LIVE:
        pytest.skip(MOCK_ONLY_REASON)
    _require_fuzzing_run()
    assert REPORT.share(201) >= MIN_CREATED_SHARE, f"only {REPORT.statuses[201]} of {REPORT.responses} cases got 201"
