"""Both packages' version derives from openapi.yaml's info.version, plus a fourth segment for our own re-releases."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from tests.support.spec import load_spec
from tests.support.versions import expected_version, versioning


def _spec(tmp_path: Path, version: str) -> Path:
    path = tmp_path / "openapi.yaml"
    path.write_text(f"openapi: 3.1.0\ninfo:\n  title: t\n  version: {version}\npaths: {{}}\n")
    return path


def test_the_current_version_is_the_spec_version_with_our_release_segment() -> None:
    spec_version = str(load_spec()["info"]["version"])
    version = Version(expected_version())
    assert version.release[:3] == tuple(int(part) for part in spec_version.split("."))
    assert version.release[3:] == (() if versioning().RELEASE == 0 else (versioning().RELEASE,))
    assert str(version) == expected_version()  # already in PEP 440 normal form


@pytest.mark.parametrize(
    ("release", "expected"), [(0, "3.210.0"), (1, "3.210.0.1"), (12, "3.210.0.12")], ids=["first", "second", "13th"]
)
def test_release_segment(tmp_path: Path, release: int, expected: str) -> None:
    assert versioning().package_version(_spec(tmp_path, "3.210.0"), release) == expected


def test_our_releases_sort_after_the_spec_version_and_before_its_next_patch(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "3.210.0")
    ours = [Version(versioning().package_version(spec, release)) for release in range(4)]
    assert ours == sorted(ours)
    assert len(set(ours)) == len(ours)
    assert ours[-1] < Version(versioning().package_version(_spec(tmp_path, "3.210.1"), 0))


@pytest.mark.parametrize("bad", ["3.210", "v3.210.0", "3.210.0-beta", "'3.210.0.1'"])
def test_a_spec_version_that_is_not_major_minor_patch_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match=r"info\.version"):
        versioning().package_version(_spec(tmp_path, bad))


def test_a_negative_release_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="release"):
        versioning().package_version(_spec(tmp_path, "3.210.0"), -1)
