"""Handle each error the client raises, provoking every one of them on the reference mock.

    make mock                              # in another terminal
    python examples/handle_errors.py

Every outcome of `send()` other than a 201 raises a `PeopleEventsError` subclass; invalid input raises `ValueError`
before anything is sent. The mock's documented credentials and its admin API (`PUT /_mock/faults`, for tests only)
stand in for the mistakes and outages you would meet in production. The script exits 1 if any case does not raise
the error it demonstrates.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import httpx

from people_events_client import (
    BadRequest,
    Forbidden,
    NotFound,
    PeopleEvents,
    PeopleEventsError,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)

BASE_URL = os.environ.get("PEOPLE_EVENTS_BASE_URL", "http://127.0.0.1:8080")
API_KEY = os.environ.get("PEOPLE_EVENTS_API_KEY", "mock-api-key")
READ_ONLY_KEY = "mock-readonly-key"  # a mock credential with people:read only (Send Event needs people:manage)


def inject_fault(fault: str) -> None:
    """Make the mock fail the next request with `fault` (its admin API; never exposed beyond loopback)."""
    httpx.put(f"{BASE_URL}/_mock/faults", json={"fault": fault, "next": 1}).raise_for_status()


def send(api_key: str = API_KEY, person: str = "jane.doe@example.com", **properties: object) -> None:
    # max_retries=0 shows each error at once; in production keep the default (3): 429s, 5xx and lost responses
    # are retried with the same eventId, so an event is never recorded twice.
    with PeopleEvents(BASE_URL, api_key=api_key, max_retries=0) as people:
        people.send(person, "addToCart", identifier_type="EMAIL", properties=properties or None)


def bad_request() -> None:
    send(totalCost="one hundred")  # the definition says totalCost is a number


def unauthorized() -> None:
    send(api_key="not-a-key")


def forbidden() -> None:
    send(api_key=READ_ONLY_KEY)


def not_found() -> None:
    send(person="nobody@example.com")  # or send(..., create_person=True) for EMAIL, PHONE and EXTERNAL_ID


def rate_limited() -> None:
    inject_fault("empty-429")  # a 429 with no body and no Retry-After: the client copes
    send()


def server_error() -> None:
    inject_fault("500")
    send()


def transport_error() -> None:
    inject_fault("reset")  # the connection drops before any response
    send()


def invalid_input() -> None:
    send(person="..")  # refused before any I/O: ".." would re-target the URL


CASES: list[tuple[Callable[[], None], type[Exception]]] = [
    (bad_request, BadRequest),
    (unauthorized, Unauthorized),
    (forbidden, Forbidden),
    (not_found, NotFound),
    (rate_limited, RateLimited),
    (server_error, ServerError),
    (transport_error, TransportError),
    (invalid_input, ValueError),
]


def main() -> int:
    mismatches = 0
    for case, expected in CASES:
        outcome: type[Exception] | None = None
        try:
            case()
        except BadRequest as error:  # 400: what was wrong, keyed by the path of the offending input
            outcome = type(error)
            print(f"{case.__name__}: BadRequest {error.status} {error.message_id}: {error.validation_errors}")
        except RateLimited as error:  # 429 after every retry; retry_after is None when the server sent none
            outcome = type(error)
            print(f"{case.__name__}: RateLimited {error.status}, retry after {error.retry_after} s")
        except TransportError as error:  # no response at all: connection failure, timeout, deadline
            outcome = type(error)
            print(f"{case.__name__}: TransportError: {error}")
        except PeopleEventsError as error:  # Unauthorized, Forbidden, NotFound, ServerError, other statuses
            outcome = type(error)
            print(f"{case.__name__}: {type(error).__name__} {error.status} {error.message_id}: {error.text}")
        except ValueError as error:  # invalid ids, eventId or properties: nothing was sent
            outcome = type(error)
            print(f"{case.__name__}: ValueError: {error}")
        if outcome is not expected:
            got = outcome.__name__ if outcome else "no error"
            print(f"{case.__name__}: expected {expected.__name__}, got {got}", file=sys.stderr)
            mismatches += 1
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
