"""Generate the client from openapi.yaml into a folder: generator + custom templates + overlay.

Usage: python scripts/regenerate.py [OUTPUT_DIR]   (default: generated/)

The output is byte-for-byte reproducible: the generator runs in a fresh temporary folder, the
overlay modules are copied in with a one-line header naming their source, and caches are dropped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
CODEGEN = ROOT / "codegen"
OVERLAY = CODEGEN / "overlay"
TEMPLATES = CODEGEN / "templates"
PACKAGE = "people_events_client"
DEFAULT_OUTPUT = ROOT / "generated"
CACHE_NAMES = {".ruff_cache", "__pycache__", ".mypy_cache", ".pytest_cache"}


def overlay_header(source: Path) -> str:
    """The first line of every copied overlay module."""
    return f"# copied from {source.relative_to(ROOT).as_posix()} by `make regenerate`; edit there, never here.\n"


def run_generator(workdir: Path) -> Path:
    out = workdir / "out"
    command = [
        sys.executable, "-m", "openapi_python_client", "generate",
        "--path", str(SPEC),
        "--config", str(CODEGEN / "config.yaml"),
        "--custom-template-path", str(TEMPLATES),
        "--meta", "pdm",
        "--fail-on-warning",
        "--output-path", str(out),
    ]  # fmt: skip
    # The post-hooks call `ruff`: make sure it is this interpreter's ruff, not whatever is on PATH.
    bin_dir = str(Path(sys.executable).parent)
    env = {"PATH": bin_dir + ":/usr/bin:/bin", "HOME": str(workdir), "LC_ALL": "C.UTF-8"}
    if shutil.which("ruff", path=env["PATH"]) is None:
        sys.exit("regenerate: ruff is not installed next to " + sys.executable)
    result = subprocess.run(command, check=False, cwd=workdir, env=env, capture_output=True, text=True)
    if result.returncode != 0 or "Error" in result.stdout or "Warning" in result.stdout:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"regenerate: openapi-python-client failed (exit {result.returncode})")
    return out


def overlay_sources() -> list[Path]:
    """Every overlay module, subpackages included (e.g. ``overlay/delivery/engine.py``), in a stable order."""
    return sorted(p for p in OVERLAY.rglob("*.py") if not CACHE_NAMES.intersection(p.relative_to(OVERLAY).parts))


def copy_overlay(package_dir: Path) -> None:
    for source in overlay_sources():
        relative = source.relative_to(OVERLAY)
        target = package_dir / relative
        if target.exists():
            name = relative.as_posix()
            sys.exit(f"regenerate: overlay {name} would replace a generated file; use a template instead")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(overlay_header(source) + source.read_text(encoding="utf-8"), encoding="utf-8")


def drop_caches(tree: Path) -> None:
    for path in sorted(tree.rglob("*"), reverse=True):
        if path.name in CACHE_NAMES and path.is_dir():
            shutil.rmtree(path)


def regenerate(output: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="regenerate-") as tmp:
        out = run_generator(Path(tmp))
        copy_overlay(out / PACKAGE)
        drop_caches(out)
        if output.exists():
            shutil.rmtree(output)
        shutil.copytree(out, output)


if __name__ == "__main__":
    regenerate(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else DEFAULT_OUTPUT)
