"""The reference mock in your own pytest suite.

`pip install people-events-mock` (or this repository) registers a pytest plugin with two fixtures:
`people_events_mock`, a fresh mock served on a free loopback port for each test, and `people_events_mock_factory`,
for mocks with other options. Run this file as it is:

    python -m pytest examples/test_with_the_mock.py

Your code under test sends with the real client over real HTTP; the test reads back what the mock stored.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from people_events_client import NotFound, PeopleEvents
from people_events_mock.pytest_plugin import MockServer


def checkout(people: PeopleEvents, email: str, order_id: str, total: float) -> None:
    """Your application code: record an addToCart event when a customer checks out."""
    people.send(
        email,
        "addToCart",
        identifier_type="EMAIL",
        properties={"transactionId": order_id, "totalCost": total},
        event_id=f"{order_id}-cart",
    )


def test_checkout_records_one_event(people_events_mock: MockServer) -> None:
    with PeopleEvents(people_events_mock.base_url, api_key="mock-api-key") as people:
        checkout(people, "jane.doe@example.com", "order-1001", 100)
        checkout(people, "jane.doe@example.com", "order-1001", 100)  # a resend of the same order

    events = people_events_mock.events(account="A")
    assert len(events) == 1  # the same eventId is recorded once
    assert events[0].properties == {"transactionId": "order-1001", "totalCost": 100}


def test_unknown_customer_is_reported(people_events_mock: MockServer) -> None:
    with PeopleEvents(people_events_mock.base_url, api_key="mock-api-key") as people, pytest.raises(NotFound):
        checkout(people, "nobody@example.com", "order-1002", 5)
    assert people_events_mock.events() == []


def test_a_tight_rate_limit(people_events_mock_factory: Callable[..., MockServer]) -> None:
    mock = people_events_mock_factory(rate_limit=5)  # create_app's keywords: fixtures, clock, rate_limit, rng
    with PeopleEvents(mock.base_url, api_key="mock-api-key", rate_limit=5) as people:
        for order in range(10):
            checkout(people, "jane.doe@example.com", f"order-{order}", order)
    assert len(mock.events(account="A")) == 10  # paced at 5/s: the mock refused none for good
