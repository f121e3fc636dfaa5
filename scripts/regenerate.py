"""Generate the client from openapi.yaml into generated/: generator + custom templates + template patches + overlay.

Usage: python scripts/regenerate.py [--spec FILE] [--codegen DIR] [--output DIR] [--check | --if-stale]

  (no flag)   regenerate OUTPUT (default generated/). Only files whose bytes change are written (and stray files
              removed), so an unchanged generated/pyproject.toml keeps its mtime and `make setup` reinstalls nothing.
  --check     exit 1 at once, naming `make regenerate` and what changed, when OUTPUT was not produced from the
              current inputs: its record (OUTPUT/.codegen-inputs.json) differs from the inputs' content hashes.
  --if-stale  regenerate only when --check would fail. With CI set, fail like --check instead: CI tests the
              committed generated/ and never repairs it.

The record holds a SHA-256 of every input (openapi.yaml, every file under codegen/, this script and
scripts/versioning.py) and the generator's and ruff's versions; content, not mtimes, so a fresh clone is judged
right. It is part of the output, so `make check-drift` also fails when it is stale.

The output is byte-for-byte reproducible: the generator runs in a fresh temporary folder, the overlay modules are
copied in with a one-line header naming their source, and caches are dropped.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

import yaml
from versioning import package_version

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
CODEGEN = ROOT / "codegen"
PACKAGE = "people_events_client"
DEFAULT_OUTPUT = ROOT / "generated"
RECORD = ".codegen-inputs.json"
CACHE_NAMES = {".ruff_cache", "__pycache__", ".mypy_cache", ".pytest_cache"}
BUILD_FOLDERS = {"build", "dist"}
# Regeneration's own code is an input too: a change to it can change the output.
SCRIPTS = (Path(__file__).resolve(), ROOT / "scripts" / "versioning.py")
TOOLS = ("openapi-python-client", "ruff")


@dataclass(frozen=True, slots=True)
class Inputs:
    """Where generation reads from: the spec and the codegen folder (config, templates, patches, overlay)."""

    spec: Path = SPEC
    codegen: Path = CODEGEN

    @property
    def overlay(self) -> Path:
        return self.codegen / "overlay"

    @property
    def templates(self) -> Path:
        return self.codegen / "templates"

    @property
    def patches(self) -> Path:
        return self.codegen / "template_patches.yaml"


def fail(message: str) -> NoReturn:
    sys.exit(f"regenerate: {message}")


def display(path: Path) -> str:
    """`path` relative to the repository when it is inside it, for messages."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def is_tool_output(relative: Path | PurePosixPath) -> bool:
    """Caches, build folders and metadata that tools leave in generated/ (mypy, pytest, pip, build) are not output:
    never compared, never removed."""
    if relative.parts and relative.parts[0] in BUILD_FOLDERS:
        return True
    return any(part in CACHE_NAMES or part.endswith(".egg-info") for part in relative.parts)


def tree_files(root: Path) -> dict[str, bytes]:
    """Every output file under `root` (tool output left out), by relative POSIX path."""
    files = (p for p in sorted(root.rglob("*")) if p.is_file() and not is_tool_output(p.relative_to(root)))
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


# --- inputs and their record -------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_record(inputs: Inputs) -> dict[str, Any]:
    """What the output is produced from: content hashes of the inputs and the tools' versions."""
    hashes = {inputs.spec.name: _sha256(inputs.spec)}
    for path in sorted(inputs.codegen.rglob("*")):
        relative = path.relative_to(inputs.codegen)
        if path.is_file() and not is_tool_output(relative):
            hashes[f"codegen/{relative.as_posix()}"] = _sha256(path)
    for script in SCRIPTS:
        hashes[f"scripts/{script.name}"] = _sha256(script)
    return {
        "about": "written by `make regenerate`: what this folder was generated from (see scripts/regenerate.py)",
        "inputs": hashes,
        "tools": {tool: importlib.metadata.version(tool) for tool in TOOLS},
    }


def record_bytes(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()


def stale_reasons(inputs: Inputs, output: Path) -> list[str]:
    """Why `output` was not produced from the current inputs (empty when it was)."""
    try:
        recorded = json.loads((output / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [f"{display(output / RECORD)} is missing or unreadable"]
    current = input_record(inputs)
    old, new = recorded.get("inputs", {}), current["inputs"]
    reasons = [f"{name} changed" for name in sorted(old.keys() & new.keys()) if old[name] != new[name]]
    reasons += [f"{name} is new" for name in sorted(new.keys() - old.keys())]
    reasons += [f"{name} was removed" for name in sorted(old.keys() - new.keys())]
    for tool, version in current["tools"].items():
        if recorded.get("tools", {}).get(tool) != version:
            reasons.append(f"{tool} is now {version} (was {recorded.get('tools', {}).get(tool)})")
    return reasons


# --- generation ----------------------------------------------------------------------------------------------------


def upstream_templates() -> Path:
    """The pinned generator's own templates folder (found without importing the generator)."""
    spec = importlib.util.find_spec("openapi_python_client")
    if spec is None or not spec.submodule_search_locations:
        fail("openapi-python-client is not installed next to " + sys.executable)
    return Path(next(iter(spec.submodule_search_locations))) / "templates"


def patch_template(text: str, name: str, patches: list[dict[str, str]]) -> str:
    """Apply exact-text patches to an upstream template; each `old` must occur exactly once."""
    for patch in patches:
        count = text.count(patch["old"])
        if count != 1:
            fail(
                f"template patch for {name} ({patch['why']}) matches {count} times in the generator's template, "
                "not once: the generator changed; update codegen/template_patches.yaml"
            )
        text = text.replace(patch["old"], patch["new"])
    return text


def prepare_templates(inputs: Inputs, workdir: Path) -> Path:
    """One folder for --custom-template-path: codegen/templates/ plus the patched upstream templates."""
    templates = workdir / "templates"
    shutil.copytree(inputs.templates, templates)
    patches: dict[str, list[dict[str, str]]] = yaml.safe_load(inputs.patches.read_text(encoding="utf-8")) or {}
    for name, template_patches in sorted(patches.items()):
        if (templates / name).exists():
            fail(f"{name} is both overridden in codegen/templates/ and patched in template_patches.yaml")
        upstream = (upstream_templates() / name).read_text(encoding="utf-8")
        (templates / name).write_text(patch_template(upstream, name, template_patches), encoding="utf-8")
    return templates


def generator_config(inputs: Inputs, workdir: Path) -> Path:
    """codegen/config.yaml with the package version (spec version + our release segment) filled in."""
    config = yaml.safe_load((inputs.codegen / "config.yaml").read_text(encoding="utf-8"))
    config["package_version_override"] = package_version(inputs.spec)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=True), encoding="utf-8")
    return path


def run_generator(inputs: Inputs, workdir: Path) -> Path:
    out = workdir / "out"
    command = [
        sys.executable, "-m", "openapi_python_client", "generate",
        "--path", str(inputs.spec),
        "--config", str(generator_config(inputs, workdir)),
        "--custom-template-path", str(prepare_templates(inputs, workdir)),
        "--meta", "pdm",
        "--fail-on-warning",
        "--output-path", str(out),
    ]  # fmt: skip
    # The post-hooks call `ruff`: make sure it is this interpreter's ruff, not whatever is on PATH.
    bin_dir = str(Path(sys.executable).parent)
    env = {"PATH": bin_dir + ":/usr/bin:/bin", "HOME": str(workdir), "LC_ALL": "C.UTF-8"}
    if shutil.which("ruff", path=env["PATH"]) is None:
        fail("ruff is not installed next to " + sys.executable)
    result = subprocess.run(command, check=False, cwd=workdir, env=env, capture_output=True, text=True)
    if result.returncode != 0 or "Error" in result.stdout or "Warning" in result.stdout:
        sys.stderr.write(result.stdout + result.stderr)
        fail(f"openapi-python-client failed (exit {result.returncode})")
    return out


def overlay_header(source: Path, codegen: Path = CODEGEN) -> str:
    """The first line of every copied overlay module."""
    name = source.relative_to(codegen).as_posix()
    return f"# copied from codegen/{name} by `make regenerate`; edit there, never here.\n"


def overlay_sources(overlay: Path) -> list[Path]:
    """Every overlay module, subpackages included (e.g. ``overlay/delivery/engine.py``), in a stable order."""
    return sorted(p for p in overlay.rglob("*.py") if not CACHE_NAMES.intersection(p.relative_to(overlay).parts))


def copy_overlay(inputs: Inputs, package_dir: Path) -> None:
    for source in overlay_sources(inputs.overlay):
        relative = source.relative_to(inputs.overlay)
        target = package_dir / relative
        if target.exists():
            fail(f"overlay {relative.as_posix()} would replace a generated file; use a template instead")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = overlay_header(source, inputs.codegen) + source.read_text(encoding="utf-8")
        target.write_text(text, encoding="utf-8")


def drop_caches(tree: Path) -> None:
    for path in sorted(tree.rglob("*"), reverse=True):
        if path.name in CACHE_NAMES and path.is_dir():
            shutil.rmtree(path)


def sync_tree(source: Path, target: Path) -> list[str]:
    """Make `target`'s files equal `source`'s, writing only the files whose bytes differ; return what changed."""
    wanted = tree_files(source)
    present = tree_files(target) if target.exists() else {}
    changed = sorted(name for name in wanted.keys() | present.keys() if wanted.get(name) != present.get(name))
    for name in changed:
        path = target / name
        if name in wanted:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(wanted[name])
        else:
            path.unlink()
    kept_dirs = {parent for name in wanted for parent in PurePosixPath(name).parents}
    for path in sorted(target.rglob("*"), reverse=True):  # deepest first
        relative = PurePosixPath(path.relative_to(target).as_posix())
        if path.is_dir() and relative not in kept_dirs and not is_tool_output(relative):
            shutil.rmtree(path)
    return changed


def generate(inputs: Inputs, workdir: Path) -> Path:
    """Generate into a new folder under `workdir`: the complete output, record included."""
    out = run_generator(inputs, workdir)
    copy_overlay(inputs, out / PACKAGE)
    drop_caches(out)
    (out / RECORD).write_bytes(record_bytes(input_record(inputs)))
    return out


def regenerate(output: Path, inputs: Inputs | None = None) -> list[str]:
    """Regenerate `output` in place; return the relative paths that changed."""
    with tempfile.TemporaryDirectory(prefix="regenerate-") as tmp:
        return sync_tree(generate(inputs or Inputs(), Path(tmp)), output)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=SPEC, help="the OpenAPI document (default: openapi.yaml)")
    parser.add_argument("--codegen", type=Path, default=CODEGEN, help="config, templates, patches, overlay")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the folder to (re)generate")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail when OUTPUT is stale, naming `make regenerate`")
    mode.add_argument("--if-stale", action="store_true", help="regenerate only when stale (in CI: fail instead)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    inputs = Inputs(spec=args.spec.resolve(), codegen=args.codegen.resolve())
    output = args.output.resolve()
    if args.check or args.if_stale:
        reasons = stale_reasons(inputs, output)
        if not reasons:
            return 0
        summary = f"{display(output)}/ is stale ({'; '.join(reasons)})"
        if args.check or os.environ.get("CI"):
            print(f"{summary}: run `make regenerate`", file=sys.stderr)
            return 1
        print(f"{summary}: regenerating", file=sys.stderr)
    changed = regenerate(output, inputs)
    print(f"{display(output)}/: {len(changed)} file(s) changed" + "".join(f"\n  {name}" for name in changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
