"""The reference mock in its own process (`python -m people_events_mock`) on 127.0.0.1, for scripts and tests.

    with mock_process(rate_limit=250) as mock:
        httpx.get(f"{mock.base_url}/_mock/health")

A separate process, so that the load of the senders and the server do not share one GIL, and so that
the server's memory can be sampled alone. It is stopped (SIGTERM, then SIGKILL) on exit.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
_START_ATTEMPTS = 3
_REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class MockProcess:
    """A running mock: where it listens, its process id, and the file its stderr goes to."""

    base_url: str
    port: int
    pid: int
    log_path: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False  # e.g. the port was taken between free_port() and the bind
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/_mock/health", timeout=1.0).json() == {"status": "ok"}:
                return True
        time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
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
            command = [sys.executable, "-m", "people_events_mock", "--host", HOST, "--port", str(port)]
            command += ["--log-level", log_level]
            if rate_limit is not None:
                command += ["--rate-limit", str(rate_limit)]
            with log_path.open("ab") as log:
                process = subprocess.Popen(command, cwd=_REPO, stdout=log, stderr=log)
            base_url = f"http://{HOST}:{port}"
            try:
                if _wait_until_healthy(base_url, process):
                    yield MockProcess(base_url=base_url, port=port, pid=process.pid, log_path=log_path)
                    return
            finally:
                _stop(process)
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the mock did not start; its log ends with:\n{tail}")
