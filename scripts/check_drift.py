"""Fail when generated/ differs from a fresh `make regenerate`, naming every differing file."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from regenerate import DEFAULT_OUTPUT, drop_caches, regenerate


def tree_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def drift(committed: Path, fresh: Path) -> list[str]:
    """Relative paths that are missing, extra or different in `committed` compared to `fresh`."""
    old, new = tree_files(committed), tree_files(fresh)
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="drift-") as tmp:
        fresh = Path(tmp) / "generated"
        regenerate(fresh)
        committed = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
        # Caches left by tools that ran in generated/ (pytest, mypy) are not drift.
        with tempfile.TemporaryDirectory(prefix="drift-committed-") as copy_dir:
            copy = Path(copy_dir) / "generated"
            shutil.copytree(committed, copy, ignore=shutil.ignore_patterns("*.egg-info", "*.pyc"))
            drop_caches(copy)
            differing = drift(copy, fresh)
    if differing:
        print("generated/ has drifted from openapi.yaml + codegen/; run `make regenerate`. Differing files:")
        for name in differing:
            print(f"  generated/{name}")
        return 1
    print("generated/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
