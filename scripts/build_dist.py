"""Build an sdist and a wheel of both packages and check them with twine: what `make dist` runs.

Usage: python scripts/build_dist.py [OUTDIR]   (default: dist/)

- the client, from generated/ (the vendorable folder is the project; its name is codegen/config.yaml's);
- people-events-mock, from the repository root.

Each wheel is built from its sdist (`python -m build`), which proves the sdist holds everything. No build isolation:
the backend is the pinned hatchling of this environment (constraints.txt), not whatever the index serves today.
Both versions come from openapi.yaml (scripts/versioning.py). `twine check --strict` must pass.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "dist"
PROJECTS = (ROOT / "generated", ROOT)


def run(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"build_dist: {' '.join(command[2:4])} failed (exit {result.returncode})")


def build_dist(output: Path) -> list[Path]:
    """Build both projects into `output`; return the files built."""
    output.mkdir(parents=True, exist_ok=True)
    before = set(output.iterdir())
    for project in PROJECTS:
        run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(output), str(project)])
    built = sorted(set(output.iterdir()) - before)
    run([sys.executable, "-m", "twine", "check", "--strict", *map(str, built)])
    return built


if __name__ == "__main__":
    for path in build_dist(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else DEFAULT_OUTPUT):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
