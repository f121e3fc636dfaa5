"""What is built from openapi.yaml follows it: the facade (it can send every request field and query parameter,
parses every documented response) and the reference mock (it answers as the spec says). After a change of the spec,
each check fails with one message that names the file to edit and why; the rest of the contract suite waits for
them (conftest.py) rather than failing with the same cause many times over."""

from __future__ import annotations

import pytest

from .sync import CLIENT_CHECKS, MOCK_CHECKS, REFERENCE_CHECKS, Check, first_drift, run_check

CHECKS = (*CLIENT_CHECKS, *MOCK_CHECKS)


@pytest.mark.parametrize("check", CHECKS, ids=[check.name for check in CHECKS])
def test_component_follows_openapi_yaml(check: Check) -> None:
    if first_drift(REFERENCE_CHECKS) is not None:
        pytest.skip("openapi.yaml disagrees with its references first (test_spec.py says where)")
    found = run_check(check)
    if found:
        pytest.fail("\n".join(map(str, found)), pytrace=False)
