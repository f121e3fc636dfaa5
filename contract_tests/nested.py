"""The environment of a nested run of the contract suite (the mutant matrix's live runs, the spec-change workflow's
runs in a copy of the repository): this run's environment without its target settings, and with byte code cached
once for all the nested runs, outside the tree (compiling schemathesis and the suite from source would cost each
run about 3 s of CPU; this machine's environment sets PYTHONDONTWRITEBYTECODE)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["nested_env"]


def nested_env(pycache: str | Path, **settings: str) -> dict[str, str]:
    """`os.environ` without CONTRACT_* and INFOBIP_* (and PYTHONDONTWRITEBYTECODE), plus `settings`."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CONTRACT_", "INFOBIP_")) and name != "PYTHONDONTWRITEBYTECODE"
    }
    return kept | {"PYTHONPYCACHEPREFIX": str(pycache), **settings}
