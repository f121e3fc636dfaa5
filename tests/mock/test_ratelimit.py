"""429: the per-account rolling-second limit, on the injected clock."""

from __future__ import annotations

import pytest

from people_events_mock.ratelimit import RollingWindowLimiter
from people_events_mock.state import MockState
from tests.support.clock import FakeClock
from tests.support.mock_api import MockAppFactory, Sender, service_exception
from tests.support.spec import assert_conforms


@pytest.fixture
def limiter(clock: FakeClock) -> RollingWindowLimiter:
    return RollingWindowLimiter({"A": 3, "B": 3}, clock=clock)


def test_limiter_admits_up_to_the_limit_then_rejects(limiter: RollingWindowLimiter) -> None:
    assert [limiter.acquire("A").admitted for _ in range(4)] == [True, True, True, False]


def test_limiter_window_rolls(limiter: RollingWindowLimiter, clock: FakeClock) -> None:
    """An admission leaves the window exactly one second later."""
    limiter.acquire("A")
    clock.advance(0.5)
    limiter.acquire("A")
    limiter.acquire("A")
    clock.advance(0.4999)
    assert not limiter.acquire("A").admitted
    clock.advance(0.0001)
    assert limiter.acquire("A").admitted
    assert not limiter.acquire("A").admitted


@pytest.mark.parametrize(
    ("elapsed", "retry_after"),
    [(0.0, 1), (0.3, 1), (0.999, 1)],
    ids=["at-once", "mid-window", "just-before-free"],
)
def test_retry_after_is_whole_seconds_never_zero(
    limiter: RollingWindowLimiter, clock: FakeClock, elapsed: float, retry_after: int
) -> None:
    for _ in range(3):
        limiter.acquire("A")
    clock.advance(elapsed)
    admission = limiter.acquire("A")
    assert not admission.admitted
    assert admission.retry_after == retry_after


def test_retry_after_rounds_up_for_a_longer_window(clock: FakeClock) -> None:
    limiter = RollingWindowLimiter({"A": 1}, clock=clock, window=2.5)
    limiter.acquire("A")
    clock.advance(0.2)
    assert limiter.acquire("A").retry_after == 3


def test_rejections_do_not_use_the_budget(limiter: RollingWindowLimiter, clock: FakeClock) -> None:
    for _ in range(10):
        limiter.acquire("A")
    clock.advance(1.0)
    assert [limiter.acquire("A").admitted for _ in range(4)] == [True, True, True, False]


def test_accounts_have_separate_budgets(limiter: RollingWindowLimiter) -> None:
    for _ in range(4):
        limiter.acquire("A")
    assert limiter.acquire("B").admitted


def test_admission_time_is_the_clock_time(limiter: RollingWindowLimiter, clock: FakeClock) -> None:
    assert limiter.acquire("A").at == clock.now


def test_limiter_reset_forgets_admissions(limiter: RollingWindowLimiter) -> None:
    for _ in range(3):
        limiter.acquire("A")
    limiter.reset()
    assert limiter.acquire("A").admitted


async def burst(send: Sender, count: int, **kwargs: str) -> list[int]:
    return [(await send(**kwargs)).status_code for _ in range(count)]  # type: ignore[arg-type]


async def test_251st_request_in_a_second_gets_429(send: Sender, clock: FakeClock) -> None:
    statuses = await burst(send, 251)
    assert statuses == [201] * 250 + [429]


async def test_429_carries_retry_after(send: Sender) -> None:
    await burst(send, 250)
    response = await send()
    assert response.status_code == 429
    assert_conforms(response)
    assert response.headers["Retry-After"] == "1"
    assert service_exception(response)["messageId"] == "TOO_MANY_REQUESTS"


async def test_next_request_after_retry_after_succeeds(send: Sender, clock: FakeClock) -> None:
    await burst(send, 250)
    response = await send()
    clock.advance(int(response.headers["Retry-After"]))
    assert (await send()).status_code == 201


async def test_429_stores_nothing(send: Sender, state: MockState) -> None:
    await burst(send, 250)
    response = await send(json={"eventId": "over-the-limit"})
    assert response.status_code == 429
    assert len(state.store.events()) == 250
    assert all(event.event_id != "over-the-limit" for event in state.store.events())


async def test_account_a_credentials_share_one_budget(send: Sender) -> None:
    await burst(send, 100, auth="App mock-api-key")
    await burst(send, 100, auth="Bearer mock-oauth-token")
    await burst(send, 50, auth="IBSSO mock-ibsso-token")
    assert (await send(auth="Basic bW9jay11c2VyOm1vY2stcGFzc3dvcmQ=")).status_code == 429


async def test_account_b_is_unaffected_by_account_a_burst(send: Sender) -> None:
    await burst(send, 260)
    assert (await send(auth="App mock-api-key-b")).status_code == 201


async def test_403_requests_count_toward_the_limit(send: Sender) -> None:
    """Every authenticated request counts, including those answered 403."""
    assert set(await burst(send, 250, auth="App mock-readonly-key")) == {403}
    assert (await send()).status_code == 429


async def test_readonly_key_over_the_limit_still_gets_403(send: Sender) -> None:
    """403 comes before 429 in the check order."""
    await burst(send, 250)
    assert (await send(auth="App mock-readonly-key")).status_code == 403


async def test_401_requests_do_not_count(send: Sender) -> None:
    await burst(send, 300, auth="App wrong")
    assert (await send()).status_code == 201


async def test_invalid_requests_count_toward_the_limit(send: Sender) -> None:
    assert set(await burst(send, 250, identifier_type="email")) == {400}
    assert (await send()).status_code == 429


async def test_rate_limit_option_replaces_a_and_b_limits_only(mock_app: MockAppFactory) -> None:
    from people_events_mock.state import mock_state

    limiter = mock_state(mock_app(rate_limit=5)).limiter
    assert (limiter.limit("A"), limiter.limit("B"), limiter.limit("F")) == (5, 5, 1_000_000)


async def test_fuzz_account_is_not_limited_at_250(send: Sender) -> None:
    assert set(await burst(send, 400, auth="App mock-fuzz-key")) == {201}
