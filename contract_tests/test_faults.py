"""Deliberate faults in the reference mock make the contract suite fail.

Each fault (deliberate_faults.py) breaks a fresh mock, by wrapping its ASGI app or by patching one of its
functions. The test then runs only the checks aimed at that fault: first against a good mock, where they
must pass, then against the broken one, where they must fail, naming what is wrong. The checks are the suite's own: the
schemathesis checks (built-in and ours, on cases seeded as in the suite) and the rate-limit scenarios.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from schemathesis import Case
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import content_type_conformance, ignored_auth, status_code_conformance
from starlette.applications import Starlette
from starlette.types import ASGIApp

from people_events_mock import create_app
from tests.support.clock import FakeClock

from .checks import (
    created_event_echoes_the_request,
    error_body_is_infobip_envelope,
    invalid_identifier_type_is_rejected,
    repeated_event_id_returns_the_same_event,
)
from .deliberate_faults import (
    created_becomes_200,
    event_id_ignored,
    missing_authorization_accepted,
    other_definition_echoed,
    plain_text_404,
    retry_after_dropped,
    throttled_event_stored,
    unknown_identifier_type_accepted,
)
from .fuzzing import run_focused
from .ratelimit import assert_rolling_second_limit

pytestmark = pytest.mark.usefixtures("mock_target_only")


def _known_good_with_event_id(case: Case[Any]) -> Case[Any]:
    """A request the mock must record (a fixture person, the seed's definition) carrying a fresh eventId, so that the
    repeated-eventId check runs on every case, whatever the generated ids and body would have been."""
    case.path_parameters = {"personId": "1001", "definitionId": "addToCart"}
    case.query = {"identifierType": "ID"}
    case.body = {"eventId": uuid.uuid4().hex}
    return case


def _with_invalid_identifier_type(case: Case[Any]) -> Case[Any]:
    """A lower-case spelling of the seeded identifierType, or one no enum has."""
    value = str((case.query or {}).get("identifierType", ""))
    case.query = {**(case.query or {}), "identifierType": value.lower() if len(value) % 2 else "NOT_A_TYPE"}
    return case


def _fuzz(
    *checks: Any, transform: Callable[[Case[Any]], Case[Any]] | None = None
) -> Callable[[ASGIApp, FakeClock], None]:
    def check(app: ASGIApp, clock: FakeClock) -> None:
        run_focused(app, checks, transform=transform)

    return check


def _rate_limit(app: ASGIApp, clock: FakeClock) -> None:
    asyncio.run(assert_rolling_second_limit(app, clock))


@dataclass(frozen=True)
class Fault:
    """A deliberate fault, the checks aimed at it, and what their failure must say (every one of `says`)."""

    id: str
    inject: Callable[[Starlette, pytest.MonkeyPatch], ASGIApp]
    check: Callable[[ASGIApp, FakeClock], None]
    says: tuple[str, ...]
    #: The rate-limit scenarios drive the mock's clock; the schemathesis checks need real time (occurredTime).
    injected_clock: bool = False


FAULTS = [
    Fault("201-becomes-200", created_becomes_200, _fuzz(status_code_conformance), ("Undocumented status code",)),
    Fault(
        "missing-authorization-accepted",
        missing_authorization_accepted,
        _fuzz(ignored_auth),
        ("API accepts requests without authentication",),
    ),
    Fault(
        "plain-text-404",
        plain_text_404,
        _fuzz(content_type_conformance, error_body_is_infobip_envelope),
        ("Undocumented Content-Type", "not Infobip's JSON error envelope"),
    ),
    Fault("429-without-retry-after", retry_after_dropped, _rate_limit, ("header Retry-After is required",), True),
    Fault("429-stores-the-event", throttled_event_stored, _rate_limit, ("was stored",), True),
    Fault(
        "unknown-identifier-type-accepted",
        unknown_identifier_type_accepted,
        _fuzz(invalid_identifier_type_is_rejected, transform=_with_invalid_identifier_type),
        ("is not one of the spec's values, yet got 404",),
    ),
    Fault(
        "201-echoes-another-definition",
        other_definition_echoed,
        _fuzz(created_event_echoes_the_request),
        ("records definitionId 'otherDefinition'",),
    ),
    Fault(
        "repeated-event-id-recorded-again",
        event_id_ignored,
        _fuzz(repeated_event_id_returns_the_same_event, transform=_known_good_with_event_id),
        ("the same eventId sent again returned another event",),
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.id for fault in FAULTS])
def test_deliberate_fault_makes_its_check_fail(fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks aimed at the fault pass on a good mock and fail on the broken one, saying why."""
    good_clock, broken_clock = FakeClock(), FakeClock()
    fault.check(create_app(clock=good_clock if fault.injected_clock else None), good_clock)
    broken = fault.inject(create_app(clock=broken_clock if fault.injected_clock else None), monkeypatch)
    with pytest.raises((AssertionError, FailureGroup)) as raised:
        fault.check(broken, broken_clock)
    message = str(raised.value)
    assert [said for said in fault.says if said not in message] == [], message
