"""Whether everything built from openapi.yaml follows it: the spec-change workflow's one message per problem.

Data flows one way (openapi.yaml -> generated client and facade; openapi.yaml -> reference mock; openapi.yaml ->
this suite), so after a change of the spec each component either follows by itself or needs a hand edit. The
checks here find the hand edits and name the file for each, in three layers:

- ``REFERENCE_CHECKS``: openapi.yaml still agrees with the seed and Infobip's published operation (copied in
  contract_tests/reference/). A disagreement is fixed in openapi.yaml, or in the reference copy when Infobip's
  documentation changed.
- ``CLIENT_CHECKS``: the facade can send every request field and query parameter of the spec, every identifier
  type, parses the 201 example, raises a typed error that carries every required field of each error example, and
  the package version is the spec's. Behavioural: the facade sends to an ``httpx.MockTransport``.
- ``MOCK_CHECKS``: the reference mock answers the seed request with a 201 that conforms to the spec, answers 404
  (never 400) for an unknown person of every documented identifier type, and errors in the spec's envelope.

The rest of the contract suite waits for these (conftest.py skips it while any of them finds a problem), so a
change of the spec fails with one message per file to edit instead of a cascade of consequences.
"""

from __future__ import annotations

from .client import CLIENT_CHECKS
from .core import Check, Drift, overlay_source, run_check, snake_case
from .mock import MOCK_CHECKS
from .references import REFERENCE_CHECKS

__all__ = [
    "CLIENT_CHECKS",
    "MOCK_CHECKS",
    "REFERENCE_CHECKS",
    "Check",
    "Drift",
    "first_drift",
    "overlay_source",
    "run_check",
    "snake_case",
]


def first_drift(*layers: tuple[Check, ...]) -> Drift | None:
    """The first drift found by the checks of `layers` (default: every layer), or None when all follow the spec."""
    for checks in layers or (REFERENCE_CHECKS, CLIENT_CHECKS, MOCK_CHECKS):
        for check in checks:
            found = run_check(check)
            if found:
                return found[0]
    return None
