"""Deliberate faults for the reference mock: each function breaks one fresh app, by wrapping it (ASGI) or by
patching one of its functions, in a way a real server could get wrong. test_faults.py shows that the
contract suite catches each one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import people_events_mock.routes
from people_events_mock.request_checks import SendEventQuery
from people_events_mock.state import mock_state
from people_events_mock.store import PersonKey

__all__ = [
    "created_becomes_200",
    "event_id_ignored",
    "missing_authorization_accepted",
    "other_definition_echoed",
    "plain_text_404",
    "retry_after_dropped",
    "rewrite_responses",
    "throttled_event_stored",
    "unknown_identifier_type_accepted",
]

Headers = list[tuple[bytes, bytes]]
#: (scope, request body, status, headers, body) -> (status, headers, body)
Rewrite = Callable[[Scope, bytes, int, Headers, bytes], tuple[int, Headers, bytes]]


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def rewrite_responses(
    app: ASGIApp, rewrite: Rewrite, *, rewrite_request: Callable[[bytes], bytes] | None = None
) -> ASGIApp:
    """`app` with every HTTP response passed through `rewrite`, which also sees the request body (read in full
    first, so that it is there even when the app answers without reading it); `rewrite_request` may change
    the body the app receives."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_body = await _read_body(receive)
        pending = [{"type": "http.request", "body": rewrite_request(request_body) if rewrite_request else request_body}]
        start: dict[str, Any] = {}
        body: list[bytes] = []

        async def replaying_receive() -> Message:
            return pending.pop() if pending else await receive()

        async def buffering_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))

        await app(scope, replaying_receive, buffering_send)
        status, headers, content = rewrite(
            scope, request_body, start["status"], list(start.get("headers", [])), b"".join(body)
        )
        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(content)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": content})

    return wrapped


def created_becomes_200(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> ASGIApp:
    return rewrite_responses(
        app, lambda scope, req, status, headers, body: (200 if status == 201 else status, headers, body)
    )


def missing_authorization_accepted(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> ASGIApp:
    """A server that treats a request without Authorization as the fuzzing account's."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(name == b"authorization" for name, _ in scope["headers"]):
            scope = {**scope, "headers": [*scope["headers"], (b"authorization", b"App mock-fuzz-key")]}
        await app(scope, receive, send)

    return wrapped


def plain_text_404(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> ASGIApp:
    def rewrite(scope: Scope, req: bytes, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status != 404:
            return status, headers, body
        return 404, [(b"content-type", b"text/plain; charset=utf-8")], b"Not Found"

    return rewrite_responses(app, rewrite)


def retry_after_dropped(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> ASGIApp:
    def rewrite(scope: Scope, req: bytes, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status == 429:
            headers = [(name, value) for name, value in headers if name.lower() != b"retry-after"]
        return status, headers, body

    return rewrite_responses(app, rewrite)


def throttled_event_stored(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> ASGIApp:
    """A server that records the event before it checks the rate limit."""
    state = mock_state(app)

    def rewrite(scope: Scope, req: bytes, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status == 429:
            authorization = [v.decode() for k, v in scope["headers"] if k == b"authorization"]
            principal = state.authenticator.authenticate(authorization)
            segments = scope["raw_path"].decode().split("/")
            query = dict(parse_qsl(scope["query_string"].decode()))
            assert principal is not None
            state.store.record_event(
                PersonKey(principal.account, query["identifierType"], unquote(segments[4])),
                event_id=_json_object(req).get("eventId"),
                definition_id=unquote(segments[6]),
                properties=None,
                accepted_at=state.clock(),
                create_person=False,
            )
        return status, headers, body

    return rewrite_responses(app, rewrite)


def unknown_identifier_type_accepted(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> ASGIApp:
    """A server that takes identifierType as given: the person lookup, not validation, answers (with 404)."""

    def lenient(query_string: bytes, errors: dict[str, list[str]], *_spec: object) -> SendEventQuery | None:
        values = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        identifier_type = values.get("identifierType")
        if not identifier_type:
            errors["identifierType"] = ["is required"]
            return None
        return SendEventQuery(identifier_type=identifier_type, create_person=values.get("createPerson") == "true")

    monkeypatch.setattr(people_events_mock.routes, "parse_send_event_query", lenient)
    return app


def other_definition_echoed(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> ASGIApp:
    def rewrite(scope: Scope, req: bytes, status: int, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        if status == 201:
            body = json.dumps({**json.loads(body), "definitionId": "otherDefinition"}).encode()
        return status, headers, body

    return rewrite_responses(app, rewrite)


def event_id_ignored(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> ASGIApp:
    """A server that records every request as a new event, yet answers with the eventId it was sent."""

    def fresh_event_id(body: bytes) -> bytes:
        sent = _json_object(body)
        return (
            json.dumps({**sent, "eventId": uuid.uuid4().hex}).encode() if isinstance(sent.get("eventId"), str) else body
        )

    def echo_event_id(
        scope: Scope, req: bytes, status: int, headers: Headers, body: bytes
    ) -> tuple[int, Headers, bytes]:
        sent = _json_object(req)
        if status == 201 and isinstance(sent.get("eventId"), str):
            body = json.dumps({**json.loads(body), "eventId": sent["eventId"]}).encode()
        return status, headers, body

    return rewrite_responses(app, echo_event_id, rewrite_request=fresh_event_id)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
