"""`make regenerate` is reproducible, copies the overlay with its header, and drift is caught by name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from check_drift import drift  # noqa: E402
from regenerate import OVERLAY, overlay_header, overlay_sources, regenerate  # noqa: E402

GENERATED = ROOT / "generated"
PACKAGE = GENERATED / "people_events_client"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("regen") / "generated"
    regenerate(out)
    return out


def test_overlay_modules_are_copied_with_a_header_naming_their_source() -> None:
    sources = overlay_sources()
    assert sources, "the overlay has modules"
    for source in sources:
        relative = source.relative_to(OVERLAY).as_posix()
        copied = (PACKAGE / relative).read_text()
        assert (
            copied.splitlines()[0]
            == f"# copied from codegen/overlay/{relative} by `make regenerate`; edit there, never here."
        )
        assert copied == overlay_header(source) + source.read_text()


def test_regenerating_twice_is_byte_identical(fresh: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    regenerate(again)
    assert drift(fresh, again) == []


def test_committed_generated_folder_is_up_to_date(fresh: Path) -> None:
    assert drift(GENERATED, fresh) == []


def test_output_is_a_typed_installable_project_without_caches(fresh: Path) -> None:
    assert (fresh / "pyproject.toml").is_file()
    assert (fresh / "people_events_client" / "py.typed").is_file()
    assert not [p for p in fresh.rglob("*") if p.name in {".ruff_cache", "__pycache__"}]
    pyproject = (fresh / "pyproject.toml").read_text()
    assert 'name = "infobip-people-events-client"' in pyproject
    assert 'version = "3.210.0"' in pyproject
    assert 'redis = ["redis>=5"]' in pyproject


def test_check_drift_fails_and_names_a_hand_edited_file(fresh: Path, tmp_path: Path) -> None:
    import shutil

    edited = tmp_path / "generated"
    shutil.copytree(fresh, edited)
    target = edited / "people_events_client" / "models" / "event_response.py"
    target.write_text(target.read_text() + "\n# hand edit\n")
    (edited / "people_events_client" / "stray.py").write_text("")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_drift.py"), str(edited)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "generated/people_events_client/models/event_response.py" in result.stdout
    assert "generated/people_events_client/stray.py" in result.stdout


def test_overlay_cannot_shadow_a_generated_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import regenerate as regen

    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "client.py").write_text("")
    monkeypatch.setattr(regen, "OVERLAY", overlay)
    package = tmp_path / "package"
    package.mkdir()
    (package / "client.py").write_text("generated")
    with pytest.raises(SystemExit, match="use a template instead"):
        regen.copy_overlay(package)
