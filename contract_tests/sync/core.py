"""The parts every layer of the sync checks shares: a drift (the file to edit, and why), a named check, and where
a piece of code's file to edit is (the overlay module a generated one was copied from)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from ..reference import OFFICIAL_PATH, SEED_PATH
from ..spec import REPO_ROOT

__all__ = ["Check", "Drift", "mock_source", "overlay_source", "run_check", "snake_case"]

SPEC_FILE: Final = "openapi.yaml"
SEED_FILE: Final = SEED_PATH.relative_to(REPO_ROOT).as_posix()
OFFICIAL_FILE: Final = OFFICIAL_PATH.relative_to(REPO_ROOT).as_posix()
_COPIED_FROM: Final = re.compile(r"^# copied from (?P<source>\S+) by `make regenerate`")


@dataclass(frozen=True, slots=True)
class Drift:
    """One hand edit a change of openapi.yaml needs: the file, and why."""

    file: str
    why: str

    def __str__(self) -> str:
        return f"edit {self.file}: {self.why}"


@dataclass(frozen=True, slots=True)
class Check:
    """A named check that returns the drifts it finds (none when the component follows the spec); `owner` names
    the file to blame when the component cannot even run the check."""

    name: str
    run: Callable[[], list[Drift]]
    owner: Callable[[], str]


def snake_case(name: str) -> str:
    """``occurredTime`` -> ``occurred_time``: the generator's (and the facade's) Python name of a spec field."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _relative(path: str | Path) -> str:
    try:
        return Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def overlay_source(obj: Any) -> str:
    """The file to edit for `obj`: the overlay module a generated module was copied from (its first line says
    which), or the module's own file."""
    path = inspect.getsourcefile(obj) or "?"
    with open(path, encoding="utf-8") as source:
        found = _COPIED_FROM.match(source.readline())
    return found["source"] if found else _relative(path)


def mock_source(module: str, attribute: str | None = None) -> str:
    """The reference mock's file that holds `module.attribute` (or the package, if the mock moved it)."""
    import importlib

    try:
        found: ModuleType | Any = importlib.import_module(f"people_events_mock.{module}")
        if attribute is not None:
            found = getattr(found, attribute)
        return overlay_source(found)
    except (ImportError, AttributeError, TypeError):
        return "people_events_mock/"


def spec_file() -> str:
    return SPEC_FILE


def mock_package() -> str:
    return "people_events_mock/"


@cache
def run_check(check: Check) -> tuple[Drift, ...]:
    """The drifts `check` finds (computed once per process)."""
    try:
        return tuple(check.run())
    except Exception as error:  # a component that no longer even runs is a drift too, with its cause
        return (Drift(check.owner(), f"{check.name} could not run: {type(error).__name__}: {error}"),)
