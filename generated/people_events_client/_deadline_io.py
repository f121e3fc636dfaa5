# copied from codegen/overlay/_deadline_io.py by `make regenerate`; edit there, never here.
"""A hard deadline for the sync facade's sockets: every connect, read and write of an attempt takes at most the
time left before the send's deadline.

httpx's timeouts bound each socket operation, not a response: a server (or a middlebox) that trickles a response
head a byte at a time could hold a sync send for (bytes) x (read timeout). (The async facade needs none of this:
``asyncio.timeout`` bounds its whole attempt.) httpcore's network backends are public API; httpx has no public way
to give its transports one (encode/httpx#3749), so ``bound_by_deadlines`` sets it on the pools an httpx client built.
Without those attributes (another httpx), sends keep the per-operation bounds only.

Not on pools that may speak HTTP/2: there one connection carries many requests, and one send's deadline must not end
the reads and writes that the others wait on (httpcore fails every stream of a connection whose I/O failed).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

import httpcore
import httpx

WRITE_CHUNK_BYTES: Final = 16 * 1024
"""Writes go out in chunks of this size, each with the time then left: a peer that reads slowly cannot stretch one
write (httpcore gives every partial ``send`` the whole timeout) far past the deadline."""

_attempt_deadline: ContextVar[float | None] = ContextVar("people_events_attempt_deadline", default=None)
"""``time.monotonic()`` at which the current thread's attempt must end; None outside a facade's send."""


@contextmanager
def attempt_deadline(remaining: float | None) -> Iterator[None]:
    """Socket operations in this block end within ``remaining`` seconds from now (None: no bound)."""
    token = _attempt_deadline.set(None if remaining is None else time.monotonic() + remaining)
    try:
        yield
    finally:
        _attempt_deadline.reset(token)


def _capped(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    deadline = _attempt_deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the send's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _capped(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:  # h11's end of a Content-Length body: nothing goes out, so nothing can run late
            self._stream.write(buffer, timeout)
            return
        for start in range(0, len(buffer), WRITE_CHUNK_BYTES):
            chunk = buffer if len(buffer) <= WRITE_CHUNK_BYTES else buffer[start : start + WRITE_CHUNK_BYTES]
            self._stream.write(chunk, _capped(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, _capped(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        capped = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_tcp(host, port, capped, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        capped = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, capped, socket_options))

    def sleep(self, seconds: float) -> None:
        """httpcore's wait between connect retries (``retries=``): never past the deadline."""
        left = _capped(None, httpcore.ConnectTimeout)
        if left is not None and left <= seconds:
            raise httpcore.ConnectTimeout("the send's deadline passes before the next connect")
        self._backend.sleep(seconds)


def bound_by_deadlines(client: httpx.Client) -> int:
    """Give the deadline backend to the pool of every ``httpx.HTTPTransport`` that ``client`` sends through: its
    default transport and its mounts (proxies included), unless the pool may speak HTTP/2. Other transport classes
    are left alone. Outside a facade's send the backend changes nothing. Returns how many pools were changed."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    changed = 0
    for transport in transports:
        pool = getattr(transport, "_pool", None) if type(transport) is httpx.HTTPTransport else None
        backend = getattr(pool, "_network_backend", None)
        if getattr(pool, "_http2", True):
            continue
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _DeadlineBackend):
            pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]
            changed += 1
    return changed
