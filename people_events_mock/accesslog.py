"""Access log: one line per request, with person ids redacted and no credentials.

Logger ``people_events_mock``, level INFO, e.g.
``POST /peopleevents/2/persons/<redacted>/definitions/addToCart/events 201 1.3ms``.
The path is the normalised one (see paths.py), the query string and headers are never logged. A client that
leaves before its response is one INFO line (``aborted``), never a 500 with a traceback; a request that the
HTTP server itself answered mid-body (a chunk-framing error, or a body not complete within the body timeout)
logs the 400 or 408 it got.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from people_events_mock.paths import raw_path, redact_path
from people_events_mock.routes import ClientGone

__all__ = ["SERVER_ANSWERED", "AccessLog"]

logger = logging.getLogger("people_events_mock")

#: Scope key the HTTP protocol sets when it answered the request itself (e.g. 400 for bad chunk framing).
SERVER_ANSWERED: Final = "people_events_mock.server_answered"


class AccessLog:
    """Pure ASGI wrapper that logs method, redacted path, outcome and latency of every HTTP request, and turns a
    client's disconnect (`ClientGone`) into that one line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            with contextlib.suppress(ClientGone):
                await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code: int | None = None

        async def send_and_record(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
            outcome = str(status_code)
        except ClientGone:
            answered = scope.get(SERVER_ANSWERED)
            outcome = f"{answered} (answered by the HTTP server)" if answered else "aborted (client disconnected)"
        except BaseException:
            # Raised after the head was sent: a dropped connection (the reset faults). Before: a 500.
            outcome = "dropped" if status_code is not None else "500"
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info("%s %s %s %.1fms", scope["method"], redact_path(raw_path(scope)), outcome, elapsed_ms)
