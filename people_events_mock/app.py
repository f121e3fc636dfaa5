"""`create_app`: the reference mock as an ASGI app (a Starlette subclass, so `app.state.mock` and Starlette's
tooling work as usual).

Requests go: access log -> Send Event (plain ASGI, routes.py) or, for anything else, Starlette: the admin API
(admin.py, behind `admin_refusal`) and JSON 404/405s.
"""

from __future__ import annotations

import os
import random

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from people_events_mock.accesslog import AccessLog
from people_events_mock.admin import admin_refusal, admin_routes
from people_events_mock.auth import Authenticator
from people_events_mock.clock import Clock, Sleep, default_sleep, system_clock
from people_events_mock.constants import ADMIN_PREFIX, DEFAULT_MAX_STORE_BYTES
from people_events_mock.errors import ApiError, error_response
from people_events_mock.faults import FaultBook
from people_events_mock.fixtures import Fixtures, default_fixtures, load_fixtures
from people_events_mock.paths import SEND_EVENT_PATH, raw_path
from people_events_mock.ratelimit import RollingWindowLimiter
from people_events_mock.routes import SendEventEndpoint
from people_events_mock.spec import SpecFacts, load_spec
from people_events_mock.state import MockState, mock_state
from people_events_mock.store import Store

__all__ = ["MockApp", "create_app"]


async def _handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.to_response(mock_state(request.app).spec)


async def _handle_http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own HTTPException (unknown path, wrong method), in the envelope."""
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, headers=exc.headers, spec=mock_state(request.app).spec)


async def _handle_server_error(request: Request, exc: Exception) -> Response:
    """Anything unhandled: a JSON 500 (ServerErrorMiddleware still re-raises for the server's log)."""
    return error_response(500, spec=mock_state(request.app).spec)


class MockApp(Starlette):
    """The mock's ASGI app: Send Event on its own fast path, the rest on Starlette."""

    def __init__(self, mock: MockState) -> None:
        super().__init__(
            routes=admin_routes(),
            exception_handlers={
                ApiError: _handle_api_error,
                HTTPException: _handle_http_exception,
                Exception: _handle_server_error,
            },
        )
        # The routes are exact: a trailing slash is a 404, never a redirect to a path the spec lacks.
        self.router.redirect_slashes = False
        self.state.mock = mock
        self._send_event = SendEventEndpoint(mock)
        self._logged = AccessLog(self._dispatch)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._logged(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = raw_path(scope)
            found = SEND_EVENT_PATH.match(path)
            if found is not None:
                await self._send_event(scope, receive, send, found.groupdict())
                return
            if path.startswith(ADMIN_PREFIX):
                refusal = admin_refusal(scope, self._send_event.mock)
                if refusal is not None:
                    await refusal.to_response(self._send_event.mock.spec)(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def create_app(
    *,
    fixtures: Fixtures | str | os.PathLike[str] | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    rate_limit: int | None = None,
    rng: random.Random | None = None,
    spec: SpecFacts | str | os.PathLike[str] | None = None,
    max_store_bytes: int = DEFAULT_MAX_STORE_BYTES,
    admin_token: str | None = None,
) -> MockApp:
    """Build a fresh mock with its own state.

    Args:
        fixtures: a `Fixtures`, or the path of a fixtures file; default: the package's fixtures.json.
        clock: returns POSIX seconds; drives the rate limiter and occurredTime. Default: a steady
            wall clock.
        sleep: awaits the given seconds; the `delay=<ms>` fault uses it. Default: asyncio.sleep.
        rate_limit: requests per rolling second for every account without `rateLimitFixed`
            (A and B; F keeps its 1,000,000). Default: each account's fixture limit (250).
        rng: randomness of probabilistic faults. Default: an unseeded `random.Random`.
        spec: the openapi.yaml to take identifier types, limits and statuses from (a path or loaded
            `SpecFacts`). Default: the packaged openapi.yaml.
        max_store_bytes: memory budget of stored events; past it the oldest are evicted. Default 100 MiB.
        admin_token: when set, every admin call needs ``Authorization: Bearer <admin_token>``.

    The state is on ``app.state.mock`` (`people_events_mock.mock_state(app)`). Raises `SpecError`,
    `FixtureError` or ValueError for bad arguments.
    """
    facts = spec if isinstance(spec, SpecFacts) else load_spec(spec)
    if fixtures is None:
        loaded = default_fixtures(None if spec is None else facts)
    elif isinstance(fixtures, Fixtures):
        loaded = fixtures
    else:
        loaded = load_fixtures(fixtures, spec=facts)
    if rate_limit is not None:
        if rate_limit < 1:
            raise ValueError("rate_limit must be at least 1")
        loaded = loaded.with_rate_limit(rate_limit)
    if admin_token is not None and not admin_token.strip():
        raise ValueError("admin_token must not be empty")
    clock = clock or system_clock()
    state = MockState(
        spec=facts,
        fixtures=loaded,
        authenticator=Authenticator(loaded.accounts),
        limiter=RollingWindowLimiter({account.name: account.rate_limit for account in loaded.accounts}, clock=clock),
        store=Store(loaded.accounts, max_bytes=max_store_bytes),
        faults=FaultBook(rng),
        clock=clock,
        sleep=sleep or default_sleep,
        admin_token=admin_token,
    )
    return MockApp(state)
