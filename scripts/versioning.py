"""The version of both packages (the client in generated/ and people-events-mock), derived from the spec.

    version = <openapi.yaml info.version>              our first release for that spec version, e.g. 3.210.0
            = <openapi.yaml info.version>.<RELEASE>    our later releases for the same spec, e.g. 3.210.0.1

The spec's version (Infobip's People spec version it follows) stays visible in the first three segments; a fourth
release segment numbers our own releases of the same spec (PEP 440: 3.210.0 < 3.210.0.1 < 3.210.0.2 < 3.210.1,
all valid on PyPI). A fourth segment rather than `.postN`, because our releases may change code, and PEP 440 keeps
post-releases for changes that do not touch the distributed software.

To release again with the same spec: bump RELEASE. When openapi.yaml's info.version changes: reset it to 0.
Read by `make regenerate` (the client's version) and by hatchling (the mock's version, pyproject.toml
`[tool.hatch.version]`), so this file needs nothing but the standard library and PyYAML.

Usage: python scripts/versioning.py   prints the version.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

RELEASE = 0
SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"
_SPEC_VERSION = re.compile(r"\d+\.\d+\.\d+")


def spec_version(spec: Path = SPEC) -> str:
    """openapi.yaml's info.version, which must be three dot-separated numbers."""
    version = str(yaml.safe_load(spec.read_text(encoding="utf-8"))["info"]["version"])
    if not _SPEC_VERSION.fullmatch(version):
        raise ValueError(f"{spec.name}: info.version {version!r} is not MAJOR.MINOR.PATCH")
    return version


def package_version(spec: Path = SPEC, release: int = RELEASE) -> str:
    """The packages' version: the spec's version, plus a fourth segment from our second release on."""
    if release < 0:
        raise ValueError(f"release must be 0 or more, not {release}")
    version = spec_version(spec)
    return version if release == 0 else f"{version}.{release}"


if __name__ == "__main__":
    print(package_version())
