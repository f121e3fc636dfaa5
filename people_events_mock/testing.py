"""Serving the mock on a free loopback port for tests.

- `serve(app)` runs an ASGI app with uvicorn in a background thread and yields its base URL.
- `mock_process()` runs `python -m people_events_mock` in its own process (no GIL shared with the test's
  senders, memory measurable alone) and yields a `MockProcess`.
- `free_port()` and `max_per_rolling_second(times)` are the small helpers that load and pacing checks share.
"""

from __future__ import annotations

import bisect
import contextlib
import ipaddress
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from people_events_mock.faults import QuietInjectedResets
from people_events_mock.server import uvicorn_options

__all__ = [
    "MockProcess",
    "exposure_warning",
    "free_port",
    "is_loopback",
    "max_per_rolling_second",
    "mock_process",
    "serve",
]

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


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def max_per_rolling_second(times: Iterable[float]) -> int:
    """The most of ``times`` (seconds) in any window [t, t + 1 s): what a rolling-second limit counts."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)


_PROCESS_STARTUP_TIMEOUT_SECONDS = 30.0
_PROCESS_STOP_TIMEOUT_SECONDS = 10.0
_START_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class MockProcess:
    """A running mock: where it listens, its process id, and the file its stderr goes to."""

    base_url: str
    port: int
    pid: int
    log_path: Path


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + _PROCESS_STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False  # e.g. the port was taken between free_port() and the bind
        health = f"{base_url}/_mock/health"
        with contextlib.suppress(OSError, ValueError), urllib.request.urlopen(health, timeout=1.0) as response:  # noqa: S310 - our loopback URL
            if json.load(response) == {"status": "ok"}:
                return True
        time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=_PROCESS_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def mock_process(
    *, rate_limit: int | None = None, log_level: str = "warning", log_path: Path | None = None
) -> Iterator[MockProcess]:
    """Start the mock on a free loopback port, wait for its health check, and stop it on exit.

    Its stderr (uvicorn's and the mock's logs) goes to `log_path`, or to a temporary file.
    """
    with contextlib.ExitStack() as stack:
        if log_path is None:
            log_path = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mock-"))) / "mock.log"
        for _ in range(_START_ATTEMPTS):
            port = free_port()
            command = [sys.executable, "-m", "people_events_mock", "--host", "127.0.0.1", "--port", str(port)]
            command += ["--log-level", log_level]
            if rate_limit is not None:
                command += ["--rate-limit", str(rate_limit)]
            with log_path.open("ab") as log:
                process = subprocess.Popen(command, stdout=log, stderr=log)  # noqa: S603 - our own interpreter and module
            base_url = f"http://127.0.0.1:{port}"
            try:
                if _wait_until_healthy(base_url, process):
                    yield MockProcess(base_url=base_url, port=port, pid=process.pid, log_path=log_path)
                    return
            finally:
                _stop(process)
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the mock did not start; its log ends with:\n{tail}")
