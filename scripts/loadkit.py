"""Shared pieces of the benchmark and load scripts (bench_mock.py, load_mock.py, ...), so that no script imports
another script's helpers. Import it from a script in scripts/ as ``import loadkit``.

Public API:

- `RawConnection(port, authorization)`: a minimal HTTP/1.1 keep-alive client on asyncio streams, far cheaper per
  request than httpx, so that on 2 cores the generator is not the bottleneck; ``await conn.post(path, body)``
  returns ``(status, headers, body)`` and raises one of `RAW_ERRORS` when the connection fails.
- `run_async(coroutine)`: `asyncio.run` on uvloop when it is installed (the generator's own loop costs less).
- `start_server(command, port)`: a context manager that starts a server process, waits for its port and stops it.
- `cpu_seconds(pid)`: user + system CPU seconds of a process so far (Linux /proc).
- `percentile_ms(seconds, fraction)`: a latency percentile in milliseconds.
- `max_per_rolling_second(times)`: the most of `times` in any [t, t + 1 s) (people_events_mock.testing's).
- `free_port()` and `read_events(base_url, **filters)`: people_events_mock.testing's.
- `markdown_table(header, rows)`: a Markdown table as text, columns padded; `machine_note()`: cores, Python
  version and the load average, for the line above a table.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from people_events_mock.testing import free_port, max_per_rolling_second, read_events

__all__ = [
    "HOST",
    "RAW_ERRORS",
    "RawConnection",
    "cpu_seconds",
    "free_port",
    "machine_note",
    "markdown_table",
    "max_per_rolling_second",
    "percentile_ms",
    "read_events",
    "run_async",
    "start_server",
]

HOST = "127.0.0.1"
RAW_ERRORS = (OSError, asyncio.IncompleteReadError, ValueError)
"""What `RawConnection.post` raises when the connection fails or the response is not HTTP/1.1 as expected."""

_STARTUP_TIMEOUT_SECONDS = 30.0
_T = TypeVar("_T")


class RawConnection:
    """One keep-alive connection to 127.0.0.1:`port`: writes a POST, reads status, headers and body. It understands
    Content-Length and chunked bodies and `Connection: close`; nothing else."""

    def __init__(self, port: int, authorization: str) -> None:
        self.port = port
        self.authorization = authorization
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connects = 0

    async def __aenter__(self) -> RawConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
            self.connects += 1
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nAuthorization: {self.authorization}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        try:
            raw_head = await self.reader.readuntil(b"\r\n\r\n")
            lines = raw_head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines[1:] if line)
            }
            content = await self._body(headers)
        except RAW_ERRORS:
            await self.close()
            raise
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, content

    async def _body(self, headers: dict[str, str]) -> bytes:
        assert self.reader is not None
        if headers.get("transfer-encoding", "").lower() != "chunked":
            return await self.reader.readexactly(int(headers.get("content-length", "0")))
        chunks = []
        while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
            chunks.append((await self.reader.readexactly(size + 2))[:-2])
        await self.reader.readuntil(b"\r\n")
        return b"".join(chunks)


def run_async(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run `coroutine` to completion on uvloop when installed, else on asyncio's default loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with the mock, except on Windows
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("server did not start")


@contextlib.contextmanager
def start_server(command: Sequence[str], port: int, *, cwd: Path | None = None) -> Iterator[int]:
    """Start a server process, wait until `port` accepts connections, yield its pid; stop it on exit."""
    process = subprocess.Popen(list(command), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_listening(port, process)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far, from /proc (Linux); NaN elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def percentile_ms(seconds: Sequence[float], fraction: float) -> float:
    """The `fraction` percentile (0.5, 0.99) of latencies given in seconds, in milliseconds; NaN for < 2 values."""
    if len(seconds) < 2:
        return float("nan")
    return statistics.quantiles(seconds, n=1000, method="inclusive")[round(fraction * 1000) - 1] * 1000


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table: text left-aligned, numbers right-aligned, every column as wide as its widest cell."""
    cells = [[str(cell) for cell in header], *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    numeric = [all(isinstance(row[column], int | float) for row in rows) for column in range(len(header))]

    def line(row: Sequence[str]) -> str:
        padded = (
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def machine_note() -> str:
    """Cores, Python, architecture and the 1-minute load average (others' work shows here)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}, load average {load:.2f}"
