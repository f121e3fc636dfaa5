"""The pure pieces of the retry policy: what is retried, how long to wait, how Retry-After is read."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from people_events_client._retry import RetryPolicy, carries_event_id, retry_delay, should_retry
from people_events_client._retry_after import parse_retry_after

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("status", "expected"),
    [(None, True), (429, True), (500, True), (502, True), (503, True), (520, True), (599, True),
     (201, False), (200, False), (400, False), (401, False), (403, False), (404, False), (413, False), (499, False)],
    ids=str,
)  # fmt: skip
def test_should_retry(status: int | None, expected: bool) -> None:
    assert should_retry(status) is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("3", 3.0),
        (" 2 ", 2.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("Thu, 26 Nov 2026 12:00:07 GMT", 7.0),
        ("Thu, 26 Nov 2026 11:59:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("", None),
    ],
    ids=["absent", "delay-seconds", "padded", "zero", "fraction", "negative", "http-date", "date-in-past",
         "malformed", "nan", "infinite", "empty"],
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
        (1, 3600.0, 1.0, 60.0),
    ],
    ids=["first-backoff", "doubles", "doubles-again", "jittered", "capped-backoff", "retry-after-exact",
         "retry-after-capped"],
)  # fmt: skip
def test_retry_delay(retry_number: int, retry_after: float | None, jitter: float, expected: float) -> None:
    assert retry_delay(RetryPolicy(), retry_number, retry_after, jitter) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"eventId":"abc","properties":null}', True),
        (b'{ "eventId" : "abc" }', True),
        (b'{"properties":1,"eventId":"z"}', True),
        (b'{"properties":{"eventId":"nested"}}', False),
        (b'{"eventId":""}', False),
        (b'{"eventId":null}', False),
        (b"{}", False),
        (b"", False),
        (b"not json", False),
    ],
    ids=["leading", "spaced", "not-first", "nested-only", "empty", "null", "no-key", "no-body", "not-json"],
)
def test_carries_event_id(content: bytes, expected: bool) -> None:
    assert carries_event_id(httpx.Request("POST", "https://api.infobip.com/x", content=content)) is expected


@pytest.mark.parametrize(
    ("status", "idempotent", "expected"),
    [(429, False, True), (503, False, False), (None, False, False), (503, True, True), (None, True, True)],
    ids=["429-always", "5xx-needs-event-id", "lost-needs-event-id", "5xx-with-event-id", "lost-with-event-id"],
)
def test_should_retry_without_event_id_resends_only_429(status: int | None, idempotent: bool, expected: bool) -> None:
    assert should_retry(status, idempotent=idempotent) is expected
