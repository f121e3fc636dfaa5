"""The package root is the public surface, and its __all__ is complete (as httpx checks its own)."""

from __future__ import annotations

import people_events_client
from people_events_client import exceptions


def test_all_lists_every_public_name_of_the_root() -> None:
    public = {name for name in vars(people_events_client) if not name.startswith("_")}
    modules = {"api", "client", "errors", "models", "types", "auth", "exceptions", "delivery", "cli", "outbox"}
    assert set(people_events_client.__all__) - {"__version__"} == public - modules


def test_exceptions_are_importable_from_the_root_and_their_module() -> None:
    for name in exceptions.__all__:
        if name != "error_from_response":
            assert getattr(people_events_client, name) is getattr(exceptions, name)


def test_exception_hierarchy() -> None:
    for name in exceptions.__all__:
        if name not in {"error_from_response", "PeopleEventsError"}:
            assert issubclass(getattr(exceptions, name), exceptions.PeopleEventsError)
