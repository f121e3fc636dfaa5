"""Fail when generated/ differs from a fresh `make regenerate`, naming every differing file."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from regenerate import CACHE_NAMES, DEFAULT_OUTPUT, regenerate


def _is_tool_output(relative: Path) -> bool:
    """Caches and build metadata that tools leave in generated/ (mypy, pytest, pip -e) are not drift."""
    return any(part in CACHE_NAMES or part.endswith(".egg-info") for part in relative.parts)


def tree_files(root: Path) -> dict[str, bytes]:
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and not _is_tool_output(p.relative_to(root)))
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def drift(committed: Path, fresh: Path) -> list[str]:
    """Relative paths that are missing, extra or different in `committed` compared to `fresh`."""
    old, new = tree_files(committed), tree_files(fresh)
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def main() -> int:
    committed = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    with tempfile.TemporaryDirectory(prefix="drift-") as tmp:
        fresh = Path(tmp) / "generated"
        regenerate(fresh)
        differing = drift(committed, fresh)
    if differing:
        print("generated/ has drifted from openapi.yaml + codegen/; run `make regenerate`. Differing files:")
        for name in differing:
            print(f"  generated/{name}")
        return 1
    print("generated/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
