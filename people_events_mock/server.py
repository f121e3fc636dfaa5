"""How the mock is served: uvicorn with httptools and uvloop, and an HTTP edge hardened for tests that attack it.

Shared by the CLI and `people_events_mock.testing.serve`. `MockHttpProtocol` is uvicorn's httptools protocol
with (docs/ARCHITECTURE.md, 'HTTP edge'):

- JSON errors: a request the parser refuses (a raw CR, LF, space or non-ASCII byte in the target, a bad header
  line or Content-Length, ``Content-Length`` together with ``Transfer-Encoding``, bad chunk framing) gets a
  400 in Infobip's envelope and the connection is closed; an HTTP version other than 1.0 and 1.1 gets 505.
- a head limit: a request head over MAX_REQUEST_HEAD_BYTES is a 400 (httptools has no limit of its own, so
  the protocol counts head bytes as they arrive).
- a header timeout: a connection that has not completed a request head within `header_timeout` seconds of
  opening or of its last response is closed, however slowly it trickles bytes; uvicorn's keep-alive timeout
  closes connections that stay quiet after a response.
- a body timeout: a request whose body is not complete within `body_timeout` seconds of its head (in total, so
  trickling cannot extend it) is ended: the app waiting for the body sees a disconnect (nothing is stored) and,
  unless it has begun its answer, the client gets a JSON 408 before the connection is closed. The deadline is
  cleared when the body is complete, so a slow app (the `delay` fault) is never cut, and a pipelined request's
  term starts when it runs. Either deadline is enforced by one `Sweeper` per server, not a timer per request.
- a connection cap below the file-descriptor limit (the soft limit is raised to the hard one at startup):
  at the cap, the longest-idle connection is closed to make room, or, when every connection is busy, the new
  one is refused; either way at most one warning per CONNECTION_WARNING_INTERVAL_SECONDS, never a log storm.
- absolute-form targets (``POST http://host/path``, RFC 9112 §3.2.2) are served, their authority replacing
  the Host header.

Also here: `QuietInjectedResets` (the log filter for the reset faults) and `exposure_warning`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import math
import resource
import socket
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from people_events_mock.accesslog import SERVER_ANSWERED
from people_events_mock.admin import is_loopback
from people_events_mock.constants import (
    CONNECTION_WARNING_INTERVAL_SECONDS,
    DEFAULT_BODY_TIMEOUT_SECONDS,
    DEFAULT_HEADER_TIMEOUT_SECONDS,
    DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS,
    MAX_REQUEST_HEAD_BYTES,
    RESERVED_FILE_DESCRIPTORS,
)
from people_events_mock.errors import error_body
from people_events_mock.faults import InjectedConnectionReset
from people_events_mock.spec import SpecFacts, default_spec
from people_events_mock.state import mock_state

__all__ = [
    "INVALID_HTTP_TEXT",
    "EdgeSettings",
    "MockHttpProtocol",
    "QuietInjectedResets",
    "bind_socket",
    "exposure_warning",
    "is_loopback",
    "pin_mmap_threshold",
    "raise_fd_limit",
    "uvicorn_config",
]

logger = logging.getLogger("people_events_mock")

#: The text of the 400 for a request that is not valid HTTP/1.1.
INVALID_HTTP_TEXT: Final = "Invalid HTTP request"
_VERSION_TEXT: Final = "HTTP version not supported: use HTTP/1.1"
_SUPPORTED_VERSIONS: Final = frozenset({"1.0", "1.1"})
_STATUS_LINES: Final = {
    400: b"HTTP/1.1 400 Bad Request\r\n",
    408: b"HTTP/1.1 408 Request Timeout\r\n",
    505: b"HTTP/1.1 505 HTTP Version Not Supported\r\n",
}


def exposure_warning(host: str) -> str | None:
    """The warning to print when binding `host` exposes the admin API beyond loopback, else None."""
    if is_loopback(host):
        return None
    return (
        f"WARNING: people_events_mock is binding {host}, beyond loopback. Its admin API (/_mock/...: reset, "
        "persons, definitions, events, faults) is for tests only and, without --admin-token, has no "
        "authentication: anyone who can reach this port can read every stored event and inject faults."
    )


class QuietInjectedResets(logging.Filter):
    """Drops uvicorn's "Exception in ASGI application" traceback for an injected reset (the access log has it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InjectedConnectionReset))

    @classmethod
    def install(cls, logger_name: str = "uvicorn.error") -> None:
        """Add the filter to `logger_name` once."""
        target = logging.getLogger(logger_name)
        if not any(isinstance(existing, cls) for existing in target.filters):
            target.addFilter(cls())


_M_MMAP_THRESHOLD: Final = -3  # glibc's mallopt parameter number
_MMAP_THRESHOLD_BYTES: Final = 128 * 1024


def pin_mmap_threshold() -> bool:
    """Keep glibc serving allocations of 128 KiB and more with mmap. True when set (glibc only).

    By default glibc raises that threshold each time such a block is freed, after which large events (a 300 KB
    body, its parsed copy, its stored JSON) come from the heap and fragment it: with a 32 MiB store budget, RSS
    grew past 250 MiB over 1,500 such events. With the threshold pinned it stays at the budget plus ~40 MiB.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES))
    except (OSError, AttributeError):  # not glibc: nothing to pin
        return False


def raise_fd_limit() -> int:
    """Raise the soft limit of open files to the hard one (where allowed); return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


@dataclass
class ConnectionGuard:
    """The connection cap of one server, and its rate-limited warning."""

    cap: int
    warning_interval: float = CONNECTION_WARNING_INTERVAL_SECONDS
    refused: int = 0
    evicted: int = 0
    _last_warning: float = field(default=-math.inf)

    def admit(self, newcomer: MockHttpProtocol, connections: set[Any]) -> None:
        """Called with every new connection (already in `connections`): make room at the cap, or refuse it."""
        open_connections = [proto for proto in connections if not proto.transport.is_closing()]
        if len(open_connections) <= self.cap:
            return
        idle = [proto for proto in open_connections if proto is not newcomer and proto.is_idle]
        if idle:
            min(idle, key=lambda proto: proto.last_activity).transport.close()
            self.evicted += 1
        else:
            newcomer.transport.close()
            self.refused += 1
        now = time.monotonic()
        if now - self._last_warning >= self.warning_interval:
            self._last_warning = now
            logger.warning(
                "connection cap of %d reached: %d idle connections closed, %d new connections refused so far",
                self.cap,
                self.evicted,
                self.refused,
            )


@dataclass
class Sweeper:
    """Closes connections past their deadline, a few times a second, for one server.

    One periodic pass instead of timers armed and cancelled on every request (two of each per request cost the
    hot path about 10%); a deadline is enforced within `interval` seconds of passing.
    """

    interval: float
    _handle: asyncio.TimerHandle | None = None

    def start(self, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        """Sweep `connections` every `interval` seconds from now on (once per server; later calls do nothing)."""
        if self._handle is None:
            self._handle = loop.call_later(self.interval, self._sweep, loop, connections)

    def _sweep(self, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        now = time.monotonic()
        for proto in list(connections):
            if isinstance(proto, MockHttpProtocol):
                proto.close_if_expired(now)
        self._handle = loop.call_later(self.interval, self._sweep, loop, connections)


@dataclass(frozen=True)
class EdgeSettings:
    """What one server's `MockHttpProtocol` needs: the spec (for JSON errors), timeouts, the cap, the sweeper."""

    spec: SpecFacts
    header_timeout: float
    body_timeout: float
    keep_alive_timeout: float
    guard: ConnectionGuard
    sweeper: Sweeper


class MockHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the edge rules of the module docstring. Each server uses a subclass
    whose `edge` is its own `EdgeSettings` (see `uvicorn_config`)."""

    edge: ClassVar[EdgeSettings]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self.last_activity = time.monotonic()
        # Deadlines (monotonic seconds) the sweeper enforces: a complete head, a complete body once the head is,
        # and new data on a kept-alive connection.
        self._head_deadline: float | None = None
        self._body_deadline: float | None = None
        self._idle_deadline: float | None = None

    @property
    def is_idle(self) -> bool:
        """No request in progress: between requests, or before the first one's head is complete."""
        return (self.cycle is None or self.cycle.response_complete) and not self.pipeline

    # --- connection lifecycle ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_CoalescingTransport(transport, self.loop))
        self.edge.guard.admit(self, self.connections)
        self._head_deadline = self.last_activity + self.edge.header_timeout
        self.edge.sweeper.start(self.loop, self.connections)

    def close_if_expired(self, now: float) -> None:
        """Close the connection if it passed its body deadline or, idle, its head or keep-alive deadline (called
        by the sweeper). The body deadline is not enforced while the request is pipelined behind another (its
        term starts when it does) or while reading is paused for a body the app has yet to take in."""
        if self.transport.is_closing():
            return
        if (
            self._body_deadline is not None
            and now >= self._body_deadline
            and not self.pipeline
            and not self.flow.read_paused
        ):
            self._end_stalled_body()
            return
        expired = (self._head_deadline is not None and now >= self._head_deadline) or (
            self._idle_deadline is not None and now >= self._idle_deadline
        )
        if expired and self.is_idle:
            self.transport.close()

    def on_response_complete(self) -> None:
        # As uvicorn's own, except for its keep-alive timer (the sweeper's deadlines replace it).
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            if self._body_deadline is not None:  # its body's term starts now that it runs
                self._body_deadline = time.monotonic() + self.edge.body_timeout
            return
        self.last_activity = now = time.monotonic()
        self._head_deadline = now + self.edge.header_timeout
        self._idle_deadline = now + self.edge.keep_alive_timeout

    # --- parsing ------------------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._idle_deadline = None
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as exc:
            version_error = isinstance(exc.__context__, _VersionNotSupported) or "HTTP version" in str(exc)
            self._reject(505 if version_error else 400)
            return
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_REQUEST_HEAD_BYTES:
                self._reject(400)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_deadline = None
        self._body_deadline = time.monotonic() + self.edge.body_timeout
        if self.parser.get_http_version() not in _SUPPORTED_VERSIONS:
            raise _VersionNotSupported
        authority = _absolute_form_authority(self.url)
        if authority is not None:
            self.headers[:] = [(name, value) for name, value in self.headers if name != b"host"]
            self.headers.append((b"host", authority))
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._body_deadline = None
        super().on_message_complete()

    # --- answers of the server itself -------------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        self._reject(400)

    def _reject(self, status_code: int) -> None:
        """Answer `status_code` (400 or 505) as JSON in Infobip's envelope, close the connection, and log it."""
        if self.transport.is_closing():
            return
        text = _VERSION_TEXT if status_code == 505 else INVALID_HTTP_TEXT
        if self._answer_and_close(status_code, text):
            logger.info("- <unparseable request> %d (%s)", status_code, text)

    def _end_stalled_body(self) -> None:
        """The body deadline passed: a JSON 408 if the app has not begun its answer, and close the connection.

        Not logged here: the app, waiting for the body, sees a disconnect, and the access log's line for the
        request says "408 (answered by the HTTP server)".
        """
        if self.cycle is None or self.cycle.response_complete:  # answered without reading the body: just close
            self.transport.close()
            return
        text = f"The request body was not complete within {self.edge.body_timeout:g} s"
        self._answer_and_close(408, text)

    def _answer_and_close(self, status_code: int, text: str) -> bool:
        """Answer `status_code` with `text` as JSON in Infobip's envelope, and close the connection. False when
        the app had begun its answer already: then the connection is only dropped."""
        body = error_body(status_code, text, spec=self.edge.spec)
        if self.cycle is not None and not self.cycle.response_complete:
            if self.cycle.response_started:  # the app is answering already: just drop the connection
                self.transport.close()
                return False
            self.cycle.scope[SERVER_ANSWERED] = status_code  # type: ignore[typeddict-unknown-key]
            # The app, waiting for the body, sees a disconnect; its late answer, if any, goes nowhere.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.write(
            b"".join(
                (
                    _STATUS_LINES[status_code],
                    b"content-type: application/json\r\ncontent-length: ",
                    str(len(body)).encode("ascii"),
                    b"\r\nconnection: close\r\n\r\n",
                    body,
                )
            )
        )
        self.transport.close()
        return True


class _CoalescingTransport(asyncio.Transport):
    """The connection's transport, with the writes of one event-loop step sent as one.

    uvicorn writes a response's head and body separately; on loopback each write is its own send(2) and TCP
    segment (TCP_NODELAY is on), which woke the client twice and cost the mock a third of its time per request.
    Writes are buffered and flushed at the end of the loop step (or before a close).
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._pending = []
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(chunk) for chunk in self._pending)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()


class _VersionNotSupported(Exception):
    """Raised in a parser callback (httptools re-raises it as an HttpParserCallbackError): answer 505."""


def _absolute_form_authority(url: bytes) -> bytes | None:
    """The authority of an absolute-form request target (``http://host:port/path``), else None."""
    if url.startswith(b"/"):
        return None
    try:
        parsed = httptools.parse_url(url)
    except httptools.HttpParserInvalidURLError:
        return None
    if not parsed.host:
        return None
    return parsed.host + (b":%d" % parsed.port if parsed.port else b"")


def bind_socket(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A listening TCP socket on `host`:`port` (0 picks a free port). Raises OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP. Without it, Nagle plus
    # delayed ACKs stall every keep-alive request by ~40 ms (25 requests/s per connection).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return "asyncio"
    return "uvloop"


def uvicorn_config(
    app: Any,
    *,
    log_level: str = "warning",
    header_timeout: float = DEFAULT_HEADER_TIMEOUT_SECONDS,
    body_timeout: float = DEFAULT_BODY_TIMEOUT_SECONDS,
    keep_alive_timeout: float = DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS,
    max_connections: int | None = None,
) -> Config:
    """The uvicorn config that serves `app` with `MockHttpProtocol`. Raises the soft fd limit (see above);
    the connection cap is `max_connections` or, at most, that limit minus RESERVED_FILE_DESCRIPTORS."""
    fd_cap = max(1, raise_fd_limit() - RESERVED_FILE_DESCRIPTORS)
    try:
        spec = mock_state(app).spec
    except TypeError:  # an app wrapped by a test, say: the packaged spec's messageIds serve as well
        spec = default_spec()
    edge = EdgeSettings(
        spec=spec,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        keep_alive_timeout=keep_alive_timeout,
        guard=ConnectionGuard(cap=min(fd_cap, max_connections or fd_cap)),
        sweeper=Sweeper(interval=min(1.0, max(0.05, min(header_timeout, body_timeout, keep_alive_timeout) / 5))),
    )
    protocol = type("ServerHttpProtocol", (MockHttpProtocol,), {"edge": edge})
    QuietInjectedResets.install()
    return Config(
        app,
        http=protocol,
        loop=_loop(),
        log_level=log_level,
        timeout_keep_alive=max(1, math.ceil(keep_alive_timeout)),  # unused: the sweeper closes idle connections
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
    )
