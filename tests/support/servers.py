"""Small loopback servers that misbehave on purpose: one that accepts and never answers (a hung dependency), one
that answers every request with a scripted response, and one that trickles its answer a byte at a time."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: (status, headers, body) for a request's method, path and body.
Script = Callable[[str, str, bytes], tuple[int, dict[str, str], bytes]]


@contextmanager
def tcp_server(
    handle: Callable[[socket.socket, threading.Event], None], *, receive_buffer: int | None = None
) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that runs ``handle(connection, stop)`` on a thread per accepted connection; yields
    its port. ``stop`` is set when the context ends; the connections are closed then too. ``receive_buffer`` sets
    the accepted sockets' SO_RCVBUF (set on the listener, so that it shapes the TCP window from the start)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    listener.settimeout(0.05)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)
            threading.Thread(target=handle, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for conn in accepted:
            conn.close()


@contextmanager
def silent_server() -> Iterator[tuple[str, int]]:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte (a hung Redis, say).

    Yields (host, port); accepted sockets stay open until the context ends."""
    with tcp_server(lambda conn, stop: None) as port:
        yield "127.0.0.1", port


@contextmanager
def scripted_http_server(script: Script) -> Iterator[str]:
    """An HTTP/1.1 server on 127.0.0.1 whose every answer comes from ``script``; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, headers, content = script(self.command, self.path, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def trickling_server(*, head: bytes, body: bytes, interval: float, trickle_head: bool) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that reads a request and sends ``head`` then ``body``, one byte every
    ``interval`` seconds (the head at once unless ``trickle_head``); yields its base URL."""

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        conn.settimeout(5)
        try:
            conn.recv(65536)
            if not trickle_head:
                conn.sendall(head)
            for byte in (head if trickle_head else b"") + body:
                if stop.wait(interval):
                    return
                conn.sendall(bytes([byte]))
        except OSError:
            return

    with tcp_server(answer) as port:
        yield f"http://127.0.0.1:{port}"


@contextmanager
def slow_reading_server(*, chunk: int, interval: float) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that reads ``chunk`` bytes every ``interval`` seconds through a small receive
    buffer and never answers (a slow proxy, say); yields its base URL."""

    def read_slowly(conn: socket.socket, stop: threading.Event) -> None:
        conn.settimeout(5)
        try:
            while not stop.wait(interval) and conn.recv(chunk):
                pass
        except OSError:
            return

    with tcp_server(read_slowly, receive_buffer=chunk) as port:
        yield f"http://127.0.0.1:{port}"


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections to it are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def json_body(payload: object) -> bytes:
    return json.dumps(payload).encode()
