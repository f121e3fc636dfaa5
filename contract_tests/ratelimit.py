"""Rate-limit scenarios against a reference mock driven by an injected clock, shared by test_rate_limit.py and
the deliberate-fault tests (test_faults.py). Each raises AssertionError, with a curl reproduction, on the
first violation of the contract: 250 requests per rolling second per account, then 429 with a valid
Retry-After, nothing stored for the 429, and the next request after Retry-After seconds accepted."""

from __future__ import annotations

import uuid
from typing import Final

import httpx
from starlette.types import ASGIApp

from tests.support.clock import FakeClock

from .report import curl_for
from .spec import event_path, response_errors, throttling_limit

__all__ = ["assert_accounts_are_isolated", "assert_rolling_second_limit"]

ACCOUNT_A: Final = "App mock-api-key"
ACCOUNT_A_BASIC: Final = "Basic bW9jay11c2VyOm1vY2stcGFzc3dvcmQ="  # mock-user:mock-password, also account A
ACCOUNT_B: Final = "App mock-api-key-b"
#: Requests of one burst are this far apart: 250 of them fit well inside one rolling second.
_STEP_SECONDS: Final = 0.001
_PERSON: Final = ("ID", "1001")
_DEFINITION: Final = "addToCart"


def _client(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


async def _send(client: httpx.AsyncClient, authorization: str, event_id: str) -> httpx.Response:
    identifier_type, person_id = _PERSON
    return await client.post(
        f"{event_path(person_id, _DEFINITION)}?identifierType={identifier_type}",
        headers={"Authorization": authorization},
        json={"eventId": event_id},
    )


def _describe(response: httpx.Response) -> str:
    request = response.request
    return curl_for(request.method, str(request.url), request.headers.multi_items(), request.content)


async def _stored(client: httpx.AsyncClient, event_id: str) -> int:
    count: int = (await client.get("/_mock/events", params={"eventId": event_id})).json()["count"]
    return count


async def _burst(client: httpx.AsyncClient, clock: FakeClock, authorization: str, count: int) -> list[httpx.Response]:
    responses = []
    for _ in range(count):
        responses.append(await _send(client, authorization, uuid.uuid4().hex))
        clock.advance(_STEP_SECONDS)
    return responses


def _assert_admitted(responses: list[httpx.Response], who: str) -> None:
    for number, response in enumerate(responses, start=1):
        assert response.status_code == 201, (
            f"{who}: request {number} within the limit got {response.status_code}: {_describe(response)}"
        )


def _assert_valid_429(response: httpx.Response) -> int:
    """The 429 conforms to the spec and carries Retry-After: whole seconds, at least 1. Returns them."""
    assert response.status_code == 429, (
        f"request {throttling_limit() + 1} in one rolling second got {response.status_code}, not 429: "
        f"{_describe(response)}"
    )
    problems = response_errors(429, dict(response.headers), response.content)
    assert not problems, f"the 429 does not conform to openapi.yaml: {'; '.join(problems)}: {_describe(response)}"
    retry_after = response.headers.get("Retry-After", "")
    whole_seconds = retry_after.isascii() and retry_after.isdigit() and int(retry_after) >= 1
    assert whole_seconds, (
        f"429 Retry-After is {retry_after or 'missing'}, not whole seconds >= 1: {_describe(response)}"
    )
    return int(retry_after)


async def assert_rolling_second_limit(app: ASGIApp, clock: FakeClock) -> None:
    """Account A: 250 requests in one rolling second are accepted, the 251st gets a valid 429 and stores
    nothing, and the same request sent Retry-After seconds later is accepted (and stored once)."""
    limit = throttling_limit()
    async with _client(app) as client:
        _assert_admitted(await _burst(client, clock, ACCOUNT_A, limit), "account A")
        event_id = uuid.uuid4().hex
        rejected = await _send(client, ACCOUNT_A, event_id)
        retry_after = _assert_valid_429(rejected)
        assert await _stored(client, event_id) == 0, f"the 429'd event {event_id} was stored: {_describe(rejected)}"
        clock.advance(retry_after)
        accepted = await _send(client, ACCOUNT_A, event_id)
        assert accepted.status_code == 201, (
            f"after waiting Retry-After ({retry_after} s) the request got {accepted.status_code}: {_describe(accepted)}"
        )
        assert await _stored(client, event_id) == 1, (
            f"event {event_id} accepted after the 429 is not stored exactly once"
        )


async def assert_accounts_are_isolated(app: ASGIApp, clock: FakeClock) -> None:
    """Account A's burst past its limit throttles all of A's credentials, and none of account B's requests."""
    limit = throttling_limit()
    async with _client(app) as client:
        _assert_admitted(await _burst(client, clock, ACCOUNT_A, limit), "account A")
        _assert_valid_429(await _send(client, ACCOUNT_A, uuid.uuid4().hex))
        other_credential = await _send(client, ACCOUNT_A_BASIC, uuid.uuid4().hex)
        assert other_credential.status_code == 429, (
            f"account A's Basic credential got {other_credential.status_code} while A is over its limit: "
            f"{_describe(other_credential)}"
        )
        _assert_admitted(await _burst(client, clock, ACCOUNT_B, limit), "account B during account A's burst")
