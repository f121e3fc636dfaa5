"""The pure pieces of the retry policy: what is retried, what may have stored the event, how long to wait, and how
Retry-After is read. (Private modules on purpose: these are table tests of pure functions.)"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from people_events_client._retry import RetryPolicy, may_have_stored, retry_delay, should_retry
from people_events_client._retry_after import parse_retry_after

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC).timestamp()

OUTCOMES: list[tuple[httpx.Response | httpx.TransportError, bool, bool]] = [
    # outcome, retried, may have stored
    (httpx.Response(201), False, True),
    (httpx.Response(200), False, True),
    (httpx.Response(400), False, False),
    (httpx.Response(401), False, False),
    (httpx.Response(404), False, False),
    (httpx.Response(413), False, False),
    (httpx.Response(429), True, False),
    (httpx.Response(499), False, False),
    (httpx.Response(500), True, True),
    (httpx.Response(503), True, True),
    (httpx.Response(520), True, True),
    (httpx.ConnectError("refused"), True, False),
    (httpx.ConnectTimeout("slow"), True, False),
    (httpx.PoolTimeout("busy"), True, False),
    (httpx.ProxyError("proxy refused"), True, False),
    (httpx.ReadTimeout("slow"), True, True),
    (httpx.WriteError("broken pipe"), True, True),
    (httpx.RemoteProtocolError("dropped"), True, True),
    (httpx.LocalProtocolError("illegal header"), False, False),
    (httpx.UnsupportedProtocol("ftp"), False, False),
]


def _id(outcome: httpx.Response | httpx.TransportError) -> str:
    return str(outcome.status_code) if isinstance(outcome, httpx.Response) else type(outcome).__name__


@pytest.mark.parametrize(("outcome", "retried", "stored"), OUTCOMES, ids=[_id(o) for o, _, _ in OUTCOMES])
def test_should_retry_and_may_have_stored(
    outcome: httpx.Response | httpx.TransportError, retried: bool, stored: bool
) -> None:
    assert should_retry(outcome) is retried
    assert may_have_stored(outcome) is stored


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("3", 3.0),
        (" 2 ", 2.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-4", None),
        ("Thu, 26 Nov 2026 12:00:07 GMT", 7.0),
        ("Thu, 26 Nov 2026 11:59:00 GMT", 0.0),
        ("Thu, 26 Nov 2026 12:00:07 -0000", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("", None),
    ],
    ids=["absent", "delay-seconds", "padded", "zero", "fraction", "negative", "http-date", "date-in-past",
         "date-without-zone", "malformed", "nan", "infinite", "empty"],
)  # fmt: skip
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=lambda: NOW) == expected


@pytest.mark.parametrize(
    ("retry_number", "retry_after", "jitter", "expected"),
    [
        (1, None, 1.0, 0.5),
        (2, None, 1.0, 1.0),
        (3, None, 1.0, 2.0),
        (3, None, 0.75, 1.5),
        (10, None, 1.0, 8.0),
        (1, 3.0, 0.75, 3.0),
        (1, 0.0, 0.75, 0.0),
        (1, 3600.0, 1.0, 60.0),
    ],
    ids=["first-backoff", "doubles", "doubles-again", "jittered", "capped-backoff", "retry-after-exact",
         "retry-after-zero", "retry-after-capped"],
)  # fmt: skip
def test_retry_delay(retry_number: int, retry_after: float | None, jitter: float, expected: float) -> None:
    assert retry_delay(RetryPolicy(), retry_number, retry_after, jitter) == expected
