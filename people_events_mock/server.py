"""How uvicorn serves the mock, shared by the CLI and `testing.serve`.

uvicorn answers a request its HTTP parser rejects (a raw CR, LF, space or non-ASCII byte in the
request target, a malformed header line or Content-Length, a request head over
MAX_REQUEST_HEAD_BYTES) itself, before the app sees it, with a plain-text 400. `JsonErrorH11Protocol`
gives that 400 Infobip's JSON envelope, like every other error of the mock. The h11 parser is
pinned rather than uvicorn's "auto" choice because MAX_REQUEST_HEAD_BYTES is an h11 setting.
"""

from __future__ import annotations

import json
from typing import Any, Final

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from people_events_mock.constants import MAX_REQUEST_HEAD_BYTES
from people_events_mock.errors import envelope

__all__ = ["INVALID_HTTP_TEXT", "JsonErrorH11Protocol", "uvicorn_options"]

#: The text of the 400 for a request that is not valid HTTP/1.1.
INVALID_HTTP_TEXT: Final = "Invalid HTTP request"


class JsonErrorH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, whose 400 for an unparseable request is JSON in Infobip's envelope."""

    def send_400_response(self, msg: str) -> None:
        # As uvicorn's own send_400_response, with a JSON body; the connection is closed after it.
        body = json.dumps(envelope("BAD_REQUEST", INVALID_HTTP_TEXT), separators=(",", ":")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            output = self.conn.send(event)
            if output:
                self.transport.write(output)
        self.transport.close()


def uvicorn_options() -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config` besides app, host, port and log level."""
    return {
        "http": JsonErrorH11Protocol,
        "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES,
        "access_log": False,
        "lifespan": "off",
    }
