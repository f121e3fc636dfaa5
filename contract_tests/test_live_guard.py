"""The LiveGuard, which keeps a live run safe by construction: what it refuses, how it counts the event
budget, and how it paces. Pure: no server, an injected clock."""

from __future__ import annotations

import re
from typing import Final

import pytest

from .live import EventBudgetExhausted, LiveGuard, LiveSafetyError, LiveSettings, fresh_person_id
from .spec import event_path, identifier_types

BASE: Final = "https://xyz.api.infobip.com"
EVENTS: Final = f"{BASE}/peopleevents/2/persons/jane.doe%40example.com/definitions/addToCart/events"


class StoppedClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_guard(max_events: int = 3, clock: StoppedClock | None = None) -> LiveGuard:
    settings = LiveSettings(
        base_url=BASE,
        api_key="live-key",
        person_id="jane.doe@example.com",
        identifier_type="EMAIL",
        definition_id="addToCart",
        max_events=max_events,
    )
    return LiveGuard(settings, clock=clock or StoppedClock())


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", f"{EVENTS}?identifierType=EMAIL"),
        ("POST", f"{EVENTS}?identifierType=EMAIL&createPerson=false"),
        ("POST", f"{EVENTS}?identifierType=email"),
        ("POST", f"{EVENTS}?identifierType=NOT_A_TYPE"),
        ("POST", f"{EVENTS}"),
        ("POST", f"{BASE}/peopleevents/2/persons//definitions/addToCart/events?identifierType=EMAIL"),
        ("POST", f"{BASE}/peopleevents/2/persons/{'x' * 257}/definitions/addToCart/events?identifierType=EMAIL"),
        ("POST", f"{BASE}/peopleevents/2/persons/jane.doe%40example.com/definitions/{'d' * 37}/events"),
    ],
    ids=[
        "named-person",
        "create-person-false",
        "lower-case-named-type",
        "unknown-type",
        "no-type",
        "empty-person",
        "person-too-long-to-exist",
        "definition-too-long-to-exist",
    ],
)
def test_guard_admits_requests_that_can_only_name_the_named_person(method: str, url: str) -> None:
    guard = make_guard()
    guard.admit(method, url)
    assert guard.in_flight == 1


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"{EVENTS}?identifierType=EMAIL"),
        ("DELETE", f"{EVENTS}?identifierType=EMAIL"),
        ("POST", "https://api.infobip.com/peopleevents/2/persons/jane.doe%40example.com/definitions/addToCart/events"),
        ("POST", f"{BASE}/_mock/reset"),
        ("POST", f"{EVENTS}?identifierType=EMAIL&createPerson=true"),
        ("POST", f"{EVENTS}?identifierType=EMAIL&createPerson=1"),
        ("POST", f"{EVENTS}?identifierType=PHONE"),
        ("POST", f"{EVENTS}?identifierType=EMAIL&identifierType=phone"),
        ("POST", f"{BASE}/peopleevents/2/persons/john%40example.com/definitions/addToCart/events?identifierType=EMAIL"),
        ("POST", f"{BASE}/peopleevents/2/persons/jane.doe%40example.com/definitions/other/events?identifierType=EMAIL"),
        ("POST", f"{BASE}/peopleevents/2/persons/../definitions/addToCart/events?identifierType=EMAIL"),
    ],
    ids=[
        "get",
        "delete",
        "other-host",
        "other-path",
        "create-person",
        "create-person-spelled-otherwise",
        "other-identifier-type",
        "another-type-repeated",
        "other-person",
        "other-definition",
        "dot-segment",
    ],
)
def test_guard_refuses_anything_else_before_sending(method: str, url: str) -> None:
    guard = make_guard()
    with pytest.raises(LiveSafetyError):
        guard.admit(method, url)
    assert (guard.in_flight, guard.sent) == (0, 0)


@pytest.mark.parametrize(
    ("status", "keeps_slot"),
    [(201, True), (500, True), (None, True), (400, False), (401, False), (404, False), (429, False)],
    ids=["201", "500", "no-response", "400", "401", "404", "429"],
)
def test_an_answer_that_may_have_stored_an_event_keeps_its_budget_slot(status: int | None, keeps_slot: bool) -> None:
    guard = make_guard(max_events=3)
    guard.admit("POST", EVENTS)
    guard.settle(status)
    assert guard.remaining == (2 if keeps_slot else 3)


def test_guard_stops_sending_when_the_budget_is_used_up() -> None:
    guard = make_guard(max_events=2)
    for _ in range(2):
        guard.admit("POST", EVENTS)
        guard.settle(201)
    with pytest.raises(EventBudgetExhausted):
        guard.admit("POST", EVENTS)
    assert (guard.may_have_stored, guard.sent, guard.refused) == (2, 2, 1)


def test_requests_in_flight_hold_budget_slots() -> None:
    guard = make_guard(max_events=2)
    guard.admit("POST", EVENTS)
    guard.admit("POST", EVENTS)
    with pytest.raises(EventBudgetExhausted):
        guard.admit("POST", EVENTS)


def test_guard_paces_request_starts_under_the_account_limit() -> None:
    clock = StoppedClock()
    guard = make_guard(max_events=10, clock=clock)
    waits = []
    for _ in range(4):
        waits.append(guard.admit("POST", EVENTS))
        guard.settle(400)
    interval = 1 / guard.settings.requests_per_second
    assert waits == pytest.approx([0, interval, 2 * interval, 3 * interval])
    assert guard.settings.requests_per_second < 250


def test_a_made_up_person_is_admitted_with_any_documented_identifier_type() -> None:
    """A person the guard made up cannot exist, so any one documented identifierType is safe for it."""
    guard = make_guard(max_events=len(identifier_types()))
    for identifier_type in identifier_types():
        person_id = guard.mint_person(identifier_type)
        guard.admit("POST", f"{BASE}{event_path(person_id, 'addToCart')}?identifierType={identifier_type}")
    assert guard.in_flight == len(identifier_types())


@pytest.mark.parametrize(
    "query",
    ["identifierType=EMAIL&createPerson=true", "identifierType=EMAIL&identifierType=PHONE", "identifierType=NOPE", ""],
    ids=["create-person", "two-types", "undocumented-type", "no-type"],
)
def test_a_made_up_person_is_never_created_nor_sent_ambiguously(query: str) -> None:
    guard = make_guard()
    person_id = guard.mint_person("EMAIL")
    with pytest.raises(LiveSafetyError):
        guard.admit("POST", f"{BASE}{event_path(person_id, 'addToCart')}?{query}")


def test_only_requests_about_a_made_up_person_skip_pacing() -> None:
    """The probe's requests go unpaced, and do not delay the paced ones; the named person's never skip pacing."""
    clock = StoppedClock()
    guard = make_guard(max_events=10, clock=clock)
    person_id = guard.mint_person("EMAIL")
    made_up = f"{BASE}{event_path(person_id, 'addToCart')}?identifierType=EMAIL"
    assert [guard.admit("POST", made_up, paced=False) for _ in range(3)] == [0.0, 0.0, 0.0]
    with pytest.raises(LiveSafetyError):
        guard.admit("POST", EVENTS, paced=False)
    assert guard.admit("POST", EVENTS) == 0.0


def test_an_unpaced_request_still_holds_a_budget_slot() -> None:
    guard = make_guard(max_events=1)
    person_id = guard.mint_person("EMAIL")
    guard.admit("POST", f"{BASE}{event_path(person_id, 'addToCart')}?identifierType=EMAIL", paced=False)
    with pytest.raises(EventBudgetExhausted):
        guard.admit("POST", f"{BASE}{event_path(person_id, 'addToCart')}?identifierType=EMAIL", paced=False)


@pytest.mark.parametrize(
    ("identifier_type", "shape"),
    [
        ("PHONE", r"999\d{12}"),
        ("ID", r"9\d{17}"),
        ("EMAIL", r".+@example\.invalid"),
        ("LINE", r"contract-unknown-[0-9a-f]{24}"),
    ],
)
def test_made_up_ids_look_like_ids_of_their_type_and_never_repeat(identifier_type: str, shape: str) -> None:
    ids = {fresh_person_id(identifier_type) for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(shape, person_id) for person_id in ids)
