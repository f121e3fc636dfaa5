"""Serving the mock on a free loopback port for tests.

- `serve(app)` runs an ASGI app with uvicorn in a background thread and yields its base URL.
- `mock_process()` runs `python -m people_events_mock` in its own process (no GIL shared with the test's
  senders, memory measurable alone) and yields a `MockProcess`.
- `read_events(base_url, **filters)` reads back every stored event through the admin API, page by page.
- `free_port()` and `max_per_rolling_second(times)` are the small helpers that load and pacing checks share.
- `duplicates_and_lost(stored, expected)` is the exactly-once accounting of a run against what it meant to store.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from people_events_mock.server import bind_socket, exposure_warning, is_loopback, uvicorn_config

__all__ = [
    "MockProcess",
    "duplicates_and_lost",
    "exposure_warning",
    "free_port",
    "is_loopback",
    "max_per_rolling_second",
    "mock_process",
    "read_events",
    "serve",
]

_STARTUP_TIMEOUT_SECONDS = 10.0
_SHUTDOWN_TIMEOUT_SECONDS = 10.0
_POLL_SECONDS = 0.005


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@contextlib.contextmanager
def serve(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> Iterator[str]:
    """Run `app` with uvicorn in a background thread; yield its base URL, e.g. ``http://127.0.0.1:54321``.

    `port=0` picks a free port. The server (the CLI's protocol and limits, see people_events_mock.server) is
    stopped, and the thread joined, on exit.
    """
    warning = exposure_warning(host)
    if warning:
        print(warning, file=sys.stderr)
    sock = bind_socket(host, port)
    server = uvicorn.Server(uvicorn_config(app, log_level=log_level))
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


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], headers: dict[str, str]) -> bool:
    deadline = time.monotonic() + _PROCESS_STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False  # e.g. the port was taken between free_port() and the bind
        request = urllib.request.Request(f"{base_url}/_mock/health", headers=headers)  # noqa: S310 - our loopback URL
        with contextlib.suppress(OSError, ValueError), urllib.request.urlopen(request, timeout=1.0) as response:  # noqa: S310
            if json.load(response).get("status") == "ok":
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
    *,
    rate_limit: int | None = None,
    log_level: str = "warning",
    log_path: Path | None = None,
    options: Sequence[str] = (),
    admin_token: str | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[MockProcess]:
    """Start the mock on a free loopback port, wait for its health check, and stop it on exit.

    `options` are more command-line options (e.g. ``["--max-store-mb", "20"]``); `admin_token` is passed as
    ``--admin-token`` and used for the health check; `preexec_fn` runs in the child before it starts (e.g. to
    lower its open-file limit). Its stderr (uvicorn's and the mock's logs) goes to `log_path`, or to a
    temporary file.
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
            if admin_token is not None:
                command += ["--admin-token", admin_token]
            command += list(options)
            with log_path.open("ab") as log:
                process = subprocess.Popen(command, stdout=log, stderr=log, preexec_fn=preexec_fn)  # noqa: S603, PLW1509 - our own interpreter and module
            base_url = f"http://127.0.0.1:{port}"
            try:
                if _wait_until_healthy(base_url, process, _admin_headers(admin_token)):
                    yield MockProcess(base_url=base_url, port=port, pid=process.pid, log_path=log_path)
                    return
            finally:
                _stop(process)
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the mock did not start; its log ends with:\n{tail}")


def _admin_headers(admin_token: str | None) -> dict[str, str]:
    return {} if admin_token is None else {"Authorization": f"Bearer {admin_token}"}


def duplicates_and_lost(stored_keys: Iterable[Hashable], expected: Collection[Hashable]) -> tuple[int, int]:
    """Exactly-once accounting: ``stored_keys`` are the keys of the stored events (one per stored copy, e.g.
    (identifierType, personId, eventId)), ``expected`` the keys that must be stored once. Duplicates are the copies
    beyond one of an expected key, plus every copy of a key nobody meant to store; lost are the expected keys with
    no copy."""
    counts = Counter(stored_keys)
    duplicates = sum(count - 1 if key in expected else count for key, count in counts.items())
    return duplicates, sum(1 for key in expected if key not in counts)


def read_events(
    base_url: str, *, admin_token: str | None = None, timeout: float = 60.0, **filters: str
) -> list[dict[str, Any]]:
    """Every stored event matching `filters` (account=, identifierType=, personId=, definitionId=, eventId=),
    read through ``GET /_mock/events`` page by page (following ``next``), in storage order."""
    events: list[dict[str, Any]] = []
    params: dict[str, str] = dict(filters)
    while True:
        url = f"{base_url}/_mock/events?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers=_admin_headers(admin_token))  # noqa: S310 - a mock's URL
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            page = json.load(response)
        events.extend(page["events"])
        if page.get("next") is None:
            return events
        params["after"] = str(page["next"])
