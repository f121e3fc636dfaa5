"""Access log: one line per request, with the person id redacted and no credentials.

Logger ``people_events_mock``, level INFO, e.g.
``POST /peopleevents/2/persons/<redacted>/definitions/addToCart/events 201 1.3ms``.
The query string and headers are never logged.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from people_events_mock.routes import raw_path

__all__ = ["AccessLogMiddleware", "redact_path"]

logger = logging.getLogger("people_events_mock")

_PERSON_SEGMENT: Final = re.compile(r"^(/peopleevents/2/persons/)[^/]*")


def redact_path(path: str) -> str:
    """The raw path with the person id replaced by ``<redacted>``."""
    return _PERSON_SEGMENT.sub(r"\1<redacted>", path, count=1)


class AccessLogMiddleware:
    """Pure ASGI middleware that logs method, redacted path, status and latency of every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
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
        except BaseException:
            # Raised after the head was sent: a dropped connection (the reset faults). Before: a 500.
            outcome = "dropped" if status_code is not None else "500"
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info("%s %s %s %.1fms", scope["method"], redact_path(raw_path(scope)), outcome, elapsed_ms)
