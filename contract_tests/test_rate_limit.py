"""The rate limit: 250 requests per rolling second per account, a 429 with a valid Retry-After past it, and a
client that paces itself so that it never meets one.

The first two run the reference mock in-process with an injected clock, so they are exact and instant;
the paced client runs in real time against the served mock (about 2 seconds) and is judged by
server-side facts: the statuses the server sent, and when it accepted each event.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Final

import httpx
import pytest
from starlette.applications import Starlette

from people_events_client import PeopleEvents
from people_events_mock.testing import mock_process
from tests.support.clock import FakeClock
from tests.support.mock_admin import stored_events
from tests.support.windows import max_per_rolling_second

from .ratelimit import assert_accounts_are_isolated, assert_rolling_second_limit
from .spec import throttling_limit
from .targets import MOCK_API_KEY

pytestmark = pytest.mark.usefixtures("mock_target_only")

#: Events the paced client sends: two seconds' worth at the limit.
PACED_EVENTS: Final = 500
PACED_THREADS: Final = 2
#: The paced client must use at least this share of the limit in its busiest second (it runs at the limit).
MIN_BUSIEST_SECOND_SHARE: Final = 0.8


async def test_251st_request_in_a_rolling_second_gets_429_with_retry_after(
    mock_app: Callable[..., Starlette], mock_clock: FakeClock
) -> None:
    """250 requests of one rolling second pass; the 251st gets a spec-valid 429 with Retry-After >= 1 and stores
    nothing; sent again Retry-After seconds later, it gets 201."""
    await assert_rolling_second_limit(mock_app(clock=mock_clock), mock_clock)


async def test_account_b_is_unaffected_by_account_a_burst(
    mock_app: Callable[..., Starlette], mock_clock: FakeClock
) -> None:
    """Account A over its limit throttles every credential of A, and none of account B's 250 requests."""
    await assert_accounts_are_isolated(mock_app(clock=mock_clock), mock_clock)


class StatusCountingTransport(httpx.BaseTransport):
    """The real transport, counting every status the server sent (below the facade's retries)."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.statuses: Counter[int] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        with self._lock:
            self.statuses[response.status_code] += 1
        return response

    def close(self) -> None:
        self._inner.close()


@pytest.mark.slow
def test_paced_client_never_sees_429_at_the_limit() -> None:
    """PeopleEvents with its default rate_limit=250 sends 500 events from two threads at the account's limit:
    the server sends no 429, and accepts at most 250 (and at least 200) events in any rolling second.

    The mock runs in its own process, as a real server would: served from a thread of this process it
    would share the GIL with the senders, and the scheduling jitter is not what is under test here."""
    counting = StatusCountingTransport()
    with mock_process() as mock:
        accepted = send_paced(mock.base_url, counting)
    assert counting.statuses == {201: PACED_EVENTS}
    assert len(accepted) == PACED_EVENTS
    busiest = max_per_rolling_second(accepted)
    assert MIN_BUSIEST_SECOND_SHARE * throttling_limit() <= busiest <= throttling_limit()


def send_paced(base_url: str, counting: StatusCountingTransport) -> list[float]:
    """Send PACED_EVENTS from PACED_THREADS threads; the server's acceptance times, read back from the admin API."""
    people = PeopleEvents(
        base_url,
        MOCK_API_KEY,
        rate_limit_key=f"contract-paced-{uuid.uuid4().hex}",
        http_client_args={"transport": counting},
    )

    def send(count: int) -> None:
        for _ in range(count):
            people.send("1001", "addToCart", identifier_type="ID")

    with people:
        senders = [threading.Thread(target=send, args=(PACED_EVENTS // PACED_THREADS,)) for _ in range(PACED_THREADS)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()

    with httpx.Client(base_url=base_url) as admin:
        return [float(event["acceptedAt"]) for event in stored_events(admin, account="A")]
