"""Stoplight Prism (pinned in package.json, run from node_modules) as an independent judge of the contract.

`run_prism` starts ``prism mock`` or ``prism proxy`` on a free loopback port, waits until it accepts
connections, and stops it (its whole process group) on exit. Prism reports violations in two places:
the ``sl-violations`` response header (JSON) and ``Violation: ...`` lines in its log. It runs without
``--errors``, so invalid requests are still forwarded and only annotated.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

from .spec import REPO_ROOT

__all__ = ["PRISM_BIN", "PrismServer", "require_prism", "run_prism", "violation_lines", "violations"]

PRISM_BIN: Final = REPO_ROOT / "node_modules" / ".bin" / "prism"
_STARTUP_TIMEOUT_SECONDS: Final = 30.0
_STOP_TIMEOUT_SECONDS: Final = 5.0
_POLL_SECONDS: Final = 0.05
_LOG_SETTLE_SECONDS: Final = 5.0
_LOG_TAIL_SECONDS: Final = 0.2
_FORWARDED: Final = "Received forward response"
_ANSI: Final = re.compile(r"\x1b\[[0-9;]*m")


def require_prism() -> Path:
    """Prism's binary; skip when node_modules is missing, except in CI (CI=true), where that is a failure."""
    if PRISM_BIN.exists():
        return PRISM_BIN
    message = f"Prism is not installed ({PRISM_BIN.relative_to(REPO_ROOT)} is missing): run `make setup` (npm ci)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class PrismServer:
    """A running Prism: where to send, and its log."""

    base_url: str
    log_path: Path

    def log_lines(self) -> list[str]:
        """Prism's log so far, without colour codes."""
        return [_ANSI.sub("", line) for line in self.log_path.read_text(errors="replace").splitlines()]

    def settled_log(self, forwarded: int) -> list[str]:
        """The proxy's log once it has logged `forwarded` forwarded responses, and what it logs right after
        them (its violation lines); the wait is bounded."""
        deadline = time.monotonic() + _LOG_SETTLE_SECONDS
        while sum(_FORWARDED in line for line in self.log_lines()) < forwarded and time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS)
        time.sleep(_LOG_TAIL_SECONDS)
        return self.log_lines()


@contextlib.contextmanager
def run_prism(arguments: list[str], log_path: Path) -> Iterator[PrismServer]:
    """Run ``prism <arguments>`` on a free loopback port until the context exits."""
    binary = require_prism()
    port = _free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(binary), *arguments, "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_port(process, port, log_path)
        yield PrismServer(f"http://127.0.0.1:{port}", log_path)
    finally:
        _stop(process)


def _wait_for_port(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"Prism exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=_POLL_SECONDS):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Prism did not listen within {_STARTUP_TIMEOUT_SECONDS:.0f} s")
        time.sleep(_POLL_SECONDS)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop Prism's process group (the one it leads, started above), politely and then firmly."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(_STOP_TIMEOUT_SECONDS)


def violation_lines(lines: list[str], location: str = "") -> list[str]:
    """Log lines reporting a violation; location="request" keeps ``Violation: request...`` lines only."""
    return [line for line in lines if f"Violation: {location}" in line]


def violations(headers: Mapping[str, str], location: str | None = None) -> list[dict[str, Any]]:
    """The violations of Prism's ``sl-violations`` header, optionally only those under `location` ("request")."""
    raw = headers.get("sl-violations")
    found: list[dict[str, Any]] = json.loads(raw) if raw else []
    return [v for v in found if location is None or v.get("location", [None])[0] == location]
