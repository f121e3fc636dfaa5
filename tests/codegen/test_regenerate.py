"""`make regenerate` (scripts/regenerate.py) and `make check-drift` (scripts/check_drift.py), through their CLIs.

Reproducible output; the overlay copied with its header; upstream templates patched exactly or not at all; only
changed files written; a record of the inputs that lets every test target detect a stale generated/; drift named
file by file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import people_events_client
from people_events_client import AuthenticatedClient
from tests.support.versions import expected_version

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = ROOT / "scripts" / "regenerate.py"
CHECK_DRIFT = ROOT / "scripts" / "check_drift.py"
GENERATED = ROOT / "generated"
OLD_MTIME = 1_000_000_000  # 2001: older than anything regeneration writes


def run(script: Path, *args: str | Path, ci: bool = False) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("regen") / "generated"
    result = run(REGENERATE, "--output", out)
    assert result.returncode == 0, result.stderr
    return out


@dataclass(frozen=True, slots=True)
class Inputs:
    """A private copy of openapi.yaml and codegen/, to change without touching the repository's."""

    spec: Path
    codegen: Path

    def regenerate(self, *args: str | Path, ci: bool = False) -> subprocess.CompletedProcess[str]:
        return run(REGENERATE, "--spec", self.spec, "--codegen", self.codegen, *args, ci=ci)

    def refused(self, output: Path) -> str:
        """Regeneration into `output` fails before writing anything; its error message."""
        result = self.regenerate("--output", output)
        assert result.returncode != 0
        assert not output.exists()
        return result.stderr


@pytest.fixture
def inputs(tmp_path: Path) -> Inputs:
    spec = tmp_path / "openapi.yaml"
    shutil.copyfile(ROOT / "openapi.yaml", spec)
    codegen = tmp_path / "codegen"
    shutil.copytree(ROOT / "codegen", codegen, ignore=shutil.ignore_patterns("__pycache__"))
    return Inputs(spec, codegen)


def test_overlay_modules_are_copied_with_a_header_naming_their_source(fresh: Path) -> None:
    overlay = ROOT / "codegen" / "overlay"
    sources = sorted(p for p in overlay.rglob("*.py") if "__pycache__" not in p.parts)
    assert sources, "the overlay has modules"
    assert any(source.parent != overlay for source in sources), "subpackages (delivery/) are copied too"
    for source in sources:
        relative = source.relative_to(overlay).as_posix()
        copied = (fresh / "people_events_client" / relative).read_text()
        header = f"# copied from codegen/overlay/{relative} by `make regenerate`; edit there, never here.\n"
        assert copied == header + source.read_text()


def test_regenerating_again_is_byte_identical(fresh: Path) -> None:
    result = run(CHECK_DRIFT, fresh)
    assert result.returncode == 0, result.stdout
    assert "is up to date" in result.stdout


def test_committed_generated_folder_is_up_to_date() -> None:
    result = run(CHECK_DRIFT)
    assert result.returncode == 0, result.stdout


def test_output_is_a_typed_installable_project_at_the_spec_version_without_caches(fresh: Path) -> None:
    project = tomllib.loads((fresh / "pyproject.toml").read_text())["project"]
    config = yaml.safe_load((ROOT / "codegen" / "config.yaml").read_text())
    assert project["name"] == config["project_name_override"]
    assert project["version"] == expected_version()
    assert project["optional-dependencies"]["redis"] == ["redis>=5"]
    assert (fresh / "people_events_client" / "py.typed").is_file()
    assert not [p for p in fresh.rglob("*") if p.name in {".ruff_cache", "__pycache__"}]


def test_check_drift_fails_and_names_a_hand_edited_file(fresh: Path, tmp_path: Path) -> None:
    edited = tmp_path / "generated"
    shutil.copytree(fresh, edited)
    target = edited / "people_events_client" / "models" / "event_response.py"
    target.write_text(target.read_text() + "\n# hand edit\n")
    (edited / "people_events_client" / "stray.py").write_text("")
    result = run(CHECK_DRIFT, edited)
    assert result.returncode == 1
    assert "generated/people_events_client/models/event_response.py" in result.stdout
    assert "generated/people_events_client/stray.py" in result.stdout
    assert "make regenerate" in result.stdout


def test_overlay_cannot_shadow_a_generated_module(inputs: Inputs, tmp_path: Path) -> None:
    (inputs.codegen / "overlay" / "client.py").write_text("")
    assert "use a template instead" in inputs.refused(tmp_path / "out")


def test_the_patched_client_template_keeps_credentials_out_of_repr() -> None:
    client = AuthenticatedClient(base_url="https://api.example.com", token="App secret-key-123", prefix="")
    client.get_httpx_client()  # puts the Authorization header into the client's headers
    assert client.get_httpx_client().headers["Authorization"] == "App secret-key-123"
    assert "secret-key-123" not in repr(client)
    client.get_httpx_client().close()


def test_a_template_patch_that_no_longer_matches_stops_regeneration(inputs: Inputs, tmp_path: Path) -> None:
    patches_file = inputs.codegen / "template_patches.yaml"
    patches = yaml.safe_load(patches_file.read_text())
    patches["client.py.jinja"][0]["old"] = "text the generator's template does not have"
    patches_file.write_text(yaml.safe_dump(patches))
    error = inputs.refused(tmp_path / "out")
    assert "client.py.jinja" in error
    assert "matches 0 times" in error
    assert "codegen/template_patches.yaml" in error


def test_a_template_cannot_be_both_overridden_and_patched(inputs: Inputs, tmp_path: Path) -> None:
    (inputs.codegen / "templates" / "client.py.jinja").write_text("{# a whole-file override #}\n")
    assert "both overridden" in inputs.refused(tmp_path / "out")


# --- freshness: the record of inputs ---------------------------------------------------------------------------------


def test_check_passes_when_the_output_was_made_from_these_inputs(fresh: Path, inputs: Inputs) -> None:
    assert run(REGENERATE, "--check", "--output", fresh).returncode == 0
    assert inputs.regenerate("--check", "--output", fresh).returncode == 0


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda _, codegen: (codegen / "overlay" / "_retry.py").write_text(""), "codegen/overlay/_retry.py changed"),
        (lambda spec, _: spec.write_text(spec.read_text() + "\n"), "openapi.yaml changed"),
        (lambda _, codegen: (codegen / "overlay" / "extra.py").write_text(""), "codegen/overlay/extra.py is new"),
    ],
    ids=["overlay-edited", "spec-edited", "overlay-added"],
)  # fmt: skip
def test_check_fails_at_once_naming_the_change_and_make_regenerate(
    fresh: Path, inputs: Inputs, change: Callable[[Path, Path], object], named: str
) -> None:
    change(inputs.spec, inputs.codegen)
    result = inputs.regenerate("--check", "--output", fresh)
    assert result.returncode == 1
    assert named in result.stderr
    assert "run `make regenerate`" in result.stderr


def test_a_missing_record_is_stale(fresh: Path, tmp_path: Path) -> None:
    copy = tmp_path / "generated"
    shutil.copytree(fresh, copy)
    (copy / ".codegen-inputs.json").unlink()
    result = run(REGENERATE, "--check", "--output", copy)
    assert result.returncode == 1
    assert ".codegen-inputs.json is missing" in result.stderr


def _files(root: Path) -> dict[str, tuple[bytes, float]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def stale_copy(fresh: Path, inputs: Inputs, tmp_path: Path) -> Path:
    """A copy of the fresh output with old mtimes and a stray file, made stale by an edit to the overlay copy."""
    output = tmp_path / "generated"
    shutil.copytree(fresh, output)
    (output / "people_events_client" / "stray.py").write_text("")
    for path in output.rglob("*"):
        os.utime(path, (OLD_MTIME, OLD_MTIME))
    source = inputs.codegen / "overlay" / "_retry.py"
    source.write_text(source.read_text() + "\n# a comment added\n")
    return output


def test_if_stale_in_ci_fails_instead_of_regenerating(inputs: Inputs, stale_copy: Path) -> None:
    before = _files(stale_copy)
    result = inputs.regenerate("--if-stale", "--output", stale_copy, ci=True)
    assert result.returncode == 1
    assert "codegen/overlay/_retry.py changed" in result.stderr
    assert "run `make regenerate`" in result.stderr
    assert _files(stale_copy) == before


def test_if_stale_regenerates_writing_only_the_files_that_change(inputs: Inputs, stale_copy: Path) -> None:
    before = _files(stale_copy)
    result = inputs.regenerate("--if-stale", "--output", stale_copy)
    assert result.returncode == 0, result.stderr
    after = _files(stale_copy)
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed == {"people_events_client/_retry.py", ".codegen-inputs.json", "people_events_client/stray.py"}
    assert "people_events_client/stray.py" not in after
    assert after["people_events_client/_retry.py"][0].endswith(b"# a comment added\n")
    assert after["pyproject.toml"][1] == OLD_MTIME  # untouched, so `make setup` reinstalls nothing
    assert inputs.regenerate("--check", "--output", stale_copy).returncode == 0


def test_if_stale_leaves_a_fresh_output_alone(fresh: Path, tmp_path: Path) -> None:
    copy = tmp_path / "generated"
    shutil.copytree(fresh, copy)
    for path in copy.rglob("*"):
        os.utime(path, (OLD_MTIME, OLD_MTIME))
    before = _files(copy)
    result = run(REGENERATE, "--if-stale", "--output", copy)
    assert result.returncode == 0
    assert result.stdout == result.stderr == ""
    assert _files(copy) == before


def test_the_generated_package_carries_the_version() -> None:
    assert people_events_client.__version__ == expected_version()
