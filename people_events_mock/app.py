"""`create_app`: the reference mock as a Starlette ASGI app, assembled declaratively."""

from __future__ import annotations

import os
import random

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from people_events_mock.accesslog import AccessLogMiddleware
from people_events_mock.admin import admin_routes
from people_events_mock.auth import Authenticator
from people_events_mock.clock import Clock, Sleep, default_sleep, system_clock
from people_events_mock.errors import ApiError, handle_api_error, handle_http_exception, handle_server_error
from people_events_mock.faults import FaultBook
from people_events_mock.fixtures import Fixtures, default_fixtures, load_fixtures
from people_events_mock.ratelimit import RollingWindowLimiter
from people_events_mock.routes import send_event_route
from people_events_mock.state import MockState
from people_events_mock.store import Store

__all__ = ["create_app"]


def create_app(
    *,
    fixtures: Fixtures | str | os.PathLike[str] | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    rate_limit: int | None = None,
    rng: random.Random | None = None,
) -> Starlette:
    """Build a fresh mock with its own state.

    Args:
        fixtures: a `Fixtures`, or the path of a fixtures file; default: the package's fixtures.json.
        clock: returns POSIX seconds; drives the rate limiter and occurredTime. Default: a steady
            wall clock.
        sleep: awaits the given seconds; the `delay=<ms>` fault uses it. Default: asyncio.sleep.
        rate_limit: requests per rolling second for every account without `rateLimitFixed`
            (A and B; F keeps its 1,000,000). Default: each account's fixture limit (250).
        rng: randomness of probabilistic faults. Default: an unseeded `random.Random`.

    The state is on ``app.state.mock`` (`people_events_mock.mock_state(app)`).
    """
    if fixtures is None:
        loaded = default_fixtures()
    elif isinstance(fixtures, Fixtures):
        loaded = fixtures
    else:
        loaded = load_fixtures(fixtures)
    if rate_limit is not None:
        if rate_limit < 1:
            raise ValueError("rate_limit must be at least 1")
        loaded = loaded.with_rate_limit(rate_limit)
    clock = clock or system_clock()
    state = MockState(
        fixtures=loaded,
        authenticator=Authenticator(loaded.accounts),
        limiter=RollingWindowLimiter({account.name: account.rate_limit for account in loaded.accounts}, clock=clock),
        store=Store(loaded.accounts),
        faults=FaultBook(rng),
        clock=clock,
        sleep=sleep or default_sleep,
    )
    app = Starlette(
        routes=[send_event_route(), *admin_routes()],
        middleware=[Middleware(AccessLogMiddleware)],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            Exception: handle_server_error,
        },
    )
    # The routes are exact: a trailing slash is a 404, never a redirect to a path the spec lacks.
    app.router.redirect_slashes = False
    app.state.mock = state
    return app
