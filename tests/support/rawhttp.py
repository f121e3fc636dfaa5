"""Raw requests, below any HTTP client: straight into the ASGI app, or as bytes on a socket to a served mock.

httpx normalises what it sends (dot segments, header values, Content-Length), so the catalogue of bad inputs
uses these instead: what the row says is exactly what the server receives.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message

_SOCKET_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class RawResponse:
    """Status, headers (names lower-cased, in order) and body of one response."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of a header, or None."""
        return next((value for key, value in self.headers if key == name.lower()), None)

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body)


async def asgi_request(
    app: ASGIApp,
    method: str,
    raw_path: bytes,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
) -> RawResponse:
    """Call the ASGI app once with exactly these bytes (the path is decoded as uvicorn does)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "root_path": "",
        "path": unquote(raw_path.decode("latin-1")),
        "raw_path": raw_path,
        "query_string": query,
        "headers": [(b"host", b"mock"), *(headers or [])],
        "client": ("127.0.0.1", 40000),
        "server": ("mock", 80),
    }
    sent_body = False
    messages: list[Message] = []

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = next(message for message in messages if message["type"] == "http.response.start")
    return RawResponse(
        status=start["status"],
        headers=[(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in start["headers"]],
        body=b"".join(message.get("body", b"") for message in messages if message["type"] == "http.response.body"),
    )


def socket_exchange(host: str, port: int, request: bytes) -> RawResponse:
    """Send one request's bytes on a fresh connection and read the response (the request should carry
    ``Connection: close``). A server that answers early and closes may reset the connection while we still
    send; the answer it wrote first is still read."""
    with socket.create_connection((host, port), timeout=_SOCKET_TIMEOUT_SECONDS) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        received = bytearray()
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
            if _complete(received):
                break
    return parse_response(bytes(received))


def _complete(received: bytearray) -> bool:
    head, separator, body = bytes(received).partition(b"\r\n\r\n")
    if not separator:
        return False
    length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return length is not None and len(body) >= int(length.group(1))


def parse_response(raw: bytes) -> RawResponse:
    """Parse an HTTP/1.1 response with a Content-Length body (skipping any 1xx interim responses)."""
    while True:
        head, separator, rest = raw.partition(b"\r\n\r\n")
        if not separator:
            raise AssertionError(f"no complete response head in {raw[:200]!r}")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        if 100 <= status < 200:
            raw = rest
            continue
        headers = [
            (name.strip().lower(), value.strip()) for name, _, value in (line.partition(":") for line in lines[1:])
        ]
        length = next((int(value) for name, value in headers if name == "content-length"), len(rest))
        return RawResponse(status=status, headers=headers, body=rest[:length])
