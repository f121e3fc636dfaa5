"""Serving an ASGI app on a free loopback port for tests: `serve(app)` yields its base URL."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from people_events_mock.faults import QuietInjectedResets
from people_events_mock.server import uvicorn_options

__all__ = ["exposure_warning", "is_loopback", "serve"]

_STARTUP_TIMEOUT_SECONDS = 10.0
_SHUTDOWN_TIMEOUT_SECONDS = 10.0
_POLL_SECONDS = 0.005


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str) -> str | None:
    """The warning to print when binding `host` exposes the unauthenticated admin API, else None."""
    if is_loopback(host):
        return None
    return (
        f"WARNING: people_events_mock is binding {host}, beyond loopback. Its admin API (/_mock/...: reset, "
        "persons, definitions, events, faults) has no authentication and is for tests only; "
        "anyone who can reach this port can read every stored event and inject faults."
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@contextlib.contextmanager
def serve(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> Iterator[str]:
    """Run `app` with uvicorn in a background thread; yield its base URL, e.g. ``http://127.0.0.1:54321``.

    `port=0` picks a free port. The server is stopped (and the thread joined) on exit.
    """
    warning = exposure_warning(host)
    if warning:
        print(warning, file=sys.stderr)
    QuietInjectedResets.install()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP. Without it, Nagle plus
    # delayed ACKs stall every keep-alive request by ~40 ms (25 requests/s per connection).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(128)
    config = uvicorn.Config(app, log_level=log_level, **uvicorn_options())
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="people-events-mock-server", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("people_events_mock: uvicorn did not start")
            time.sleep(_POLL_SECONDS)
        yield f"http://{_url_host(host)}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(_SHUTDOWN_TIMEOUT_SECONDS)
        sock.close()
