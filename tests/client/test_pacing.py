"""Pacing: one pyrate-limiter budget per key and rate, shared in the process; Redis failures fall back and warn once."""

from __future__ import annotations

import hashlib
import logging
import socket

import httpx
import pytest
import redis
from pyrate_limiter import Rate
from redis.backoff import NoBackoff
from redis.retry import Retry

from people_events_client import PeopleEvents, TransportError
from people_events_client._pacing import pacing_rates, redis_limiter, shared_limiter

from .conftest import BASE_URL

CREATED = b'{"eventId":"E","definitionId":"addToCart","occurredTime":"2026-11-26T12:00:00Z"}'


def created(_: httpx.Request) -> httpx.Response:
    return httpx.Response(201, content=CREATED)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_pacing_rates_add_a_tenth_second_window_to_smooth_bursts() -> None:
    assert [(r.limit, r.interval) for r in pacing_rates(250)] == [(25, 100), (250, 1015)]
    assert [(r.limit, r.interval) for r in pacing_rates(5)] == [(1, 100), (5, 1015)]
    assert [(r.limit, r.interval) for r in pacing_rates(1)] == [(1, 1015)]
    assert all(isinstance(r, Rate) for r in pacing_rates(1))


def test_one_shared_limiter_per_key_and_rate() -> None:
    assert shared_limiter("k-shared", 250) is shared_limiter("k-shared", 250)
    assert shared_limiter("k-shared", 250) is not shared_limiter("k-other", 250)
    assert shared_limiter("k-shared", 250) is not shared_limiter("k-shared", 100)


def test_instances_with_one_credential_share_one_budget() -> None:
    first = PeopleEvents(BASE_URL, "same-key")
    second = PeopleEvents(BASE_URL, "same-key")
    assert first._pacer is not None
    assert second._pacer is not None
    assert first._pacer._fallback is second._pacer._fallback


def test_default_rate_limit_key_is_a_digest_of_the_credential() -> None:
    facade = PeopleEvents(BASE_URL, "raw-secret-key")
    assert facade._pacer is not None
    assert facade._pacer.key == hashlib.sha256(b"App raw-secret-key").hexdigest()


def test_rate_limit_none_turns_pacing_off() -> None:
    assert PeopleEvents(BASE_URL, "k", rate_limit=None)._pacer is None


def test_pacing_wait_is_bounded_by_the_deadline() -> None:
    facade = PeopleEvents(
        BASE_URL, "k", rate_limit=1, rate_limit_key="deadline-test", deadline=0.2,
        http_client_args={"transport": httpx.MockTransport(created)},
    )  # fmt: skip
    facade.send("1001", "addToCart", identifier_type="ID")
    with pytest.raises(TransportError, match="timed out"):
        facade.send("1001", "addToCart", identifier_type="ID")


def test_unreachable_redis_falls_back_to_in_process_pacing_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    no_retries = Retry(NoBackoff(), 0)
    unreachable = redis.Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=0.2, retry=no_retries)
    facade = PeopleEvents(
        BASE_URL, "k", limiter=redis_limiter(unreachable, rate_limit=250),
        http_client_args={"transport": httpx.MockTransport(created)},
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="people_events_client"):
        for _ in range(3):
            facade.send("1001", "addToCart", identifier_type="ID")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "falling back to in-process pacing" in warnings[0].getMessage()
