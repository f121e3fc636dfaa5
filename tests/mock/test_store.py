"""The store on its own: atomic record-or-replay, createPerson in the same step, reset."""

from __future__ import annotations

import pytest

from people_events_mock.fixtures import default_fixtures
from people_events_mock.store import EventFilter, PersonKey, Store

JANE = PersonKey("A", "EMAIL", "jane.doe@example.com")
NEW = PersonKey("A", "EMAIL", "new@example.com")


@pytest.fixture
def store() -> Store:
    return Store(default_fixtures().accounts)


def record(store: Store, person: PersonKey, event_id: str | None = None, *, create_person: bool = False) -> object:
    return store.record_event(
        person,
        event_id=event_id,
        definition_id="addToCart",
        properties=None,
        accepted_at=1.0,
        create_person=create_person,
    )


def test_record_for_a_missing_person_stores_nothing(store: Store) -> None:
    assert record(store, NEW) is None
    assert store.events() == []


def test_record_with_create_person_creates_it(store: Store) -> None:
    assert record(store, NEW, create_person=True) is not None
    assert store.has_person(NEW)


def test_replay_returns_the_original_and_is_not_new(store: Store) -> None:
    first = store.record_event(
        JANE, event_id="e", definition_id="addToCart", properties={"a": 1}, accepted_at=1.0, create_person=False
    )
    again = store.record_event(
        JANE, event_id="e", definition_id="addToCart", properties=None, accepted_at=2.0, create_person=False
    )
    assert first is not None
    assert again is not None
    assert first[1] is True
    assert again == (first[0], False)


def test_reset_keeps_fixture_persons_and_drops_the_rest(store: Store) -> None:
    record(store, NEW, "e", create_person=True)
    store.reset()
    assert store.events() == []
    assert store.has_person(JANE)
    assert not store.has_person(NEW)


def test_event_filter_matches_every_set_field(store: Store) -> None:
    record(store, JANE, "e1")
    assert len(store.events(EventFilter(account="A", identifier_type="EMAIL", event_id="e1"))) == 1
    assert store.events(EventFilter(account="B")) == []
