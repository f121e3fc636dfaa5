"""Fail when generated/ differs from a fresh `make regenerate`, naming every differing file.

Usage: python scripts/check_drift.py [DIR]   (default: generated/)

The fresh output includes the record of inputs (.codegen-inputs.json), so a generated/ that matches its code but was
recorded from other inputs drifts too.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from regenerate import DEFAULT_OUTPUT, Inputs, display, generate, tree_files


def drift(committed: Path, fresh: Path) -> list[str]:
    """Relative paths that are missing, extra or different in `committed` compared to `fresh`."""
    old, new = tree_files(committed), tree_files(fresh)
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def main() -> int:
    committed = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else DEFAULT_OUTPUT
    with tempfile.TemporaryDirectory(prefix="drift-") as tmp:
        differing = drift(committed, generate(Inputs(), Path(tmp)))
    if differing:
        print(
            f"{display(committed)}/ has drifted from openapi.yaml + codegen/; run `make regenerate`. Differing files:"
        )
        for name in differing:
            print(f"  generated/{name}")
        return 1
    print(f"{display(committed)}/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
