"""The packages' version as scripts/versioning.py derives it (openapi.yaml's info.version + our release segment).

scripts/ is not a package, so the module is loaded from its path (no sys.path edit).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

VERSIONING = Path(__file__).resolve().parents[2] / "scripts" / "versioning.py"


@cache
def versioning() -> ModuleType:
    """scripts/versioning.py as a module: `package_version(spec, release)`, `spec_version(spec)`, `RELEASE`."""
    spec = importlib.util.spec_from_file_location("versioning", VERSIONING)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_version() -> str:
    """The version both packages must carry now."""
    version: str = versioning().package_version()
    return version
