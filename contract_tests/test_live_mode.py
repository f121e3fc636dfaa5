"""Live mode, proven against a stand-in: the whole contract suite runs with ``CONTRACT_TARGET=live`` and
``INFOBIP_BASE_URL`` pointed at a served reference mock, in a subprocess, as a user's CI would run it.

It must pass, send events only about the named person (never creating one), store at most 50 events (the
default budget), and skip every test that needs the reference mock itself, saying why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Final

import httpx
import pytest

from people_events_mock import create_app
from people_events_mock.testing import serve

from .live import DEFAULT_MAX_EVENTS
from .spec import REPO_ROOT
from .targets import ENV_TARGET, MOCK_ONLY_REASON

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("mock_target_only")]

NAMED_PERSON: Final = {"identifierType": "EMAIL", "personId": "jane.doe@example.com"}
#: Tests that must run, not skip, on a live target.
LIVE_SAFE_TESTS: Final = {
    "test_send_event_conforms_to_the_spec",
    "test_fuzzing_was_not_throttled",
    "test_event_is_recorded_as_sent",
    "test_resending_an_event_id_returns_the_original_event",
    "test_wrong_credentials_raise_unauthorized",
}
#: Modules whose every test needs the reference mock, so skips on live.
MOCK_ONLY_MODULES: Final = {"test_rate_limit", "test_faults", "test_prism", "test_live_mode"}
_TIMEOUT_SECONDS: Final = 300


def _outcomes(junit: Path) -> dict[str, tuple[str, str]]:
    """Test name (module.test[params]) -> (outcome, skip reason) from a JUnit XML report."""
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}.{case.get('name')}"
        skipped = case.find("skipped")
        if skipped is not None:
            outcomes[name] = ("skipped", skipped.get("message", ""))
        elif case.find("failure") is not None or case.find("error") is not None:
            outcomes[name] = ("failed", "")
        else:
            outcomes[name] = ("passed", "")
    return outcomes


def test_live_mode_runs_within_its_bounds_against_a_served_mock(tmp_path: Path) -> None:
    """CONTRACT_TARGET=live against a served mock: passes, stores 1-50 events, all about the named person,
    and skips the mock-only tests with the reason."""
    junit = tmp_path / "live-junit.xml"
    env = {name: value for name, value in os.environ.items() if not name.startswith(("CONTRACT_", "INFOBIP_"))}
    with serve(create_app()) as base_url:
        env |= {
            ENV_TARGET: "live",
            "INFOBIP_BASE_URL": base_url,
            "INFOBIP_API_KEY": "mock-api-key",
            "INFOBIP_PERSON_ID": NAMED_PERSON["personId"],
            "INFOBIP_IDENTIFIER_TYPE": NAMED_PERSON["identifierType"],
            "INFOBIP_DEFINITION_ID": "addToCart",
        }
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "contract_tests", "-p", "no:cacheprovider", "-q", f"--junitxml={junit}"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
        stored = httpx.get(f"{base_url}/_mock/events").json()

    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "live bounds:" in run.stdout
    assert 0 < stored["count"] <= DEFAULT_MAX_EVENTS
    assert Counter(
        (e["account"], e["person"]["identifierType"], e["person"]["personId"]) for e in stored["events"]
    ) == {("A", NAMED_PERSON["identifierType"], NAMED_PERSON["personId"]): stored["count"]}
    outcomes = _outcomes(junit)
    ran = {name.split(".", 1)[1].split("[", 1)[0] for name, (outcome, _) in outcomes.items() if outcome == "passed"}
    assert ran >= LIVE_SAFE_TESTS
    mock_only = {name: result for name, result in outcomes.items() if name.split(".", 1)[0] in MOCK_ONLY_MODULES}
    assert {name.split(".", 1)[0] for name in mock_only} == MOCK_ONLY_MODULES
    assert set(mock_only.values()) == {("skipped", MOCK_ONLY_REASON)}
