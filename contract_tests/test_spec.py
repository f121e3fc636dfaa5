"""openapi.yaml agrees with its references: the seed (the endpoint as documented to our users) and Infobip's
published operation, both copied in contract_tests/reference/. Each check (sync.REFERENCE_CHECKS) fails with one
message that names the file to edit and why."""

from __future__ import annotations

import pytest

from .sync import REFERENCE_CHECKS, Check, run_check


@pytest.mark.parametrize("check", REFERENCE_CHECKS, ids=[check.name for check in REFERENCE_CHECKS])
def test_openapi_yaml_agrees_with_the_references(check: Check) -> None:
    found = run_check(check)
    if found:
        pytest.fail("\n".join(map(str, found)), pytrace=False)
