"""The package's public surface: one place (`__all__`), complete and importable."""

from __future__ import annotations

import inspect

import people_events_mock
from people_events_mock import create_app


def test_exported_members_exist_and_are_sorted() -> None:
    assert people_events_mock.__all__ == sorted(people_events_mock.__all__)
    for name in people_events_mock.__all__:
        assert hasattr(people_events_mock, name), name


def test_public_names_are_all_exported() -> None:
    public = {
        name
        for name, value in vars(people_events_mock).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert public == set(people_events_mock.__all__)


def test_create_app_options_are_keyword_only() -> None:
    parameters = inspect.signature(create_app).parameters.values()
    assert all(parameter.kind is inspect.Parameter.KEYWORD_ONLY for parameter in parameters)
    assert [parameter.name for parameter in parameters] == [
        "fixtures",
        "clock",
        "sleep",
        "rate_limit",
        "rng",
        "spec",
        "max_store_bytes",
        "admin_token",
    ]
