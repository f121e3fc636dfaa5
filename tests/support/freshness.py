"""pytest plugin: stop the run at once when generated/ is stale, naming `make regenerate`.

The tests import the client from generated/ (installed editable). After an edit to openapi.yaml or codegen/ without
`make regenerate`, they would test the old code. The Makefile's test targets regenerate first; this catches a plain
`pytest` (and tox) by the same content-hash check (scripts/regenerate.py --check).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REGENERATE = Path(__file__).resolve().parents[2] / "scripts" / "regenerate.py"


def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):  # a pytest-xdist worker: the controller has checked
        return
    result = subprocess.run(
        [sys.executable, str(REGENERATE), "--check"], capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode != 0:
        pytest.exit(result.stderr.strip() or result.stdout.strip(), returncode=pytest.ExitCode.USAGE_ERROR)
