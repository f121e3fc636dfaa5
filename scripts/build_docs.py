"""Build the HTML API reference of openapi.yaml with Redocly (pinned in package.json): what `make docs` runs.

Usage: python scripts/build_docs.py [OUTPUT]   (default: docs/reference.html)

One self-contained HTML file: Redoc's scripts are inlined (--inlineBundle), so it opens from disk with no network.
How it renders (every enum value listed, examples fully open) is set in redocly.yaml's `openapi` section.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REDOCLY = ROOT / "node_modules" / ".bin" / "redocly"
DEFAULT_OUTPUT = ROOT / "docs" / "reference.html"


def build_docs(output: Path) -> None:
    """Write the reference to `output`; exit with Redocly's output if it fails."""
    if not REDOCLY.exists():
        sys.exit(f"build_docs: {REDOCLY.relative_to(ROOT)} is missing: run `make setup` (npm ci)")
    output.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    command = [str(REDOCLY), "build-docs", "openapi.yaml", "--inlineBundle", "--output", str(output)]
    # cwd: the repository, where Redocly finds redocly.yaml.
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not output.is_file():
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"build_docs: redocly build-docs failed (exit {result.returncode})")


if __name__ == "__main__":
    target = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else DEFAULT_OUTPUT
    build_docs(target)
    print(f"API reference: {target}")
