"""The Send Event endpoint: a plain ASGI handler, the mock's hot path.

Checks run in the order of docs/ARCHITECTURE.md, 'Check order', and the first failure answers:
401 credentials -> 403 scope -> 429 rate limit -> 413 size -> 415 media type or encoding -> 400 validation
-> 404 person/definition -> (faults) -> 201. A rejected request stores nothing and creates no person. The
order is the mock's own: openapi.yaml cannot express it.

It is plain ASGI rather than a Starlette route because it runs on every request of a load test: no Request
object, no middleware stack, headers read once. The admin API, which is not hot, stays on Starlette.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

from starlette import status
from starlette.types import Message, Receive, Scope, Send

from people_events_mock.auth import Principal
from people_events_mock.constants import CREATABLE_IDENTIFIER_TYPES, FAULT_HEADER, IDENTITY_ENCODINGS
from people_events_mock.errors import ApiError, ValidationErrors, error_body
from people_events_mock.faults import Fault, FaultKind, FaultRequest, InjectedConnectionReset, parse_fault_header
from people_events_mock.ratelimit import Admission
from people_events_mock.request_checks import (
    decode_path_segment,
    is_json_media_type,
    parse_send_event_query,
    validate_event_body,
    validate_path_ids,
)
from people_events_mock.state import MockState
from people_events_mock.store import PersonKey, StoreFull
from people_events_mock.strict_json import InvalidJson, parse_json

__all__ = ["ClientGone", "SendEventEndpoint", "parse_send_event_query"]

logger = logging.getLogger("people_events_mock")

_WWW_AUTHENTICATE: Final = 'App realm="people-events", Basic realm="people-events", IBSSO, Bearer'
_MAX_CONTENT_LENGTH_DIGITS: Final = 20
_JSON_HEADERS: Final = [(b"content-type", b"application/json")]
_WANTED: Final = frozenset(
    {b"authorization", b"content-type", b"content-length", b"content-encoding", FAULT_HEADER.encode()}
)


class ClientGone(Exception):
    """The client disconnected before the request body was complete."""


def _headers(scope: Scope) -> dict[bytes, list[str]]:
    """The request headers the endpoint reads, each with all its values (Starlette's latin-1 decoding)."""
    found: dict[bytes, list[str]] = {}
    for name, value in scope["headers"]:
        if name in _WANTED:
            found.setdefault(name, []).append(value.decode("latin-1"))
    return found


async def _respond(send: Send, status_code: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status_code,
            "headers": [*headers, (b"content-length", str(len(body)).encode("ascii"))],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _declared_length(headers: dict[bytes, list[str]], limit: int) -> None:
    """400 for an unusable Content-Length, 413 for one over the limit (before reading a byte of the body)."""
    declared = headers.get(b"content-length")
    if not declared:
        return
    # As the HTTP parser does over a socket: one value, ASCII digits only, at most 20 of them (int() of 10,000
    # digits raises, and str.isdigit() accepts "²", which int() refuses). In-process callers reach here unchecked.
    value = declared[0].strip()
    if len(declared) > 1 or not (value.isascii() and value.isdigit() and len(value) <= _MAX_CONTENT_LENGTH_DIGITS):
        raise ApiError(
            status.HTTP_400_BAD_REQUEST,
            "Bad request",
            validation_errors={"Content-Length": ["must be one whole number of bytes"]},
            close=True,
        )
    if int(value) > limit:
        raise ApiError(status.HTTP_413_CONTENT_TOO_LARGE, f"Request body is larger than {limit} bytes", close=True)


async def read_body(receive: Receive, limit: int, *, too_large_text: str) -> bytes:
    """The whole request body, or 413 as soon as it exceeds `limit`; `ClientGone` if the client leaves."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ApiError(status.HTTP_413_CONTENT_TOO_LARGE, too_large_text, close=True)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _fault_request(headers: dict[bytes, list[str]], errors: ValidationErrors) -> FaultRequest | None:
    values = headers.get(FAULT_HEADER.encode())
    if not values:
        return None
    if len(values) > 1:
        errors["X-Mock-Fault"] = ["must be given once"]
        return None
    try:
        return parse_fault_header(values[0])
    except ValueError as exc:
        errors["X-Mock-Fault"] = [str(exc)]
        return None


def _check_media(headers: dict[bytes, list[str]], has_body: bool) -> None:
    """400 for two Content-Types, 415 for a non-JSON one (with a body) or any Content-Encoding but identity."""
    content_types = headers.get(b"content-type", [])
    if len(content_types) > 1:
        raise ApiError(
            status.HTTP_400_BAD_REQUEST, "Bad request", validation_errors={"Content-Type": ["must be given once"]}
        )
    encodings = [part.strip().lower() for value in headers.get(b"content-encoding", []) for part in value.split(",")]
    if any(encoding not in IDENTITY_ENCODINGS for encoding in encodings):
        raise ApiError(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Content-Encoding must be identity (not compressed)")
    if has_body and not is_json_media_type(content_types[0] if content_types else ""):
        raise ApiError(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be a JSON media type")


class SendEventEndpoint:
    """POST /peopleevents/2/persons/{personId}/definitions/{definitionId}/events, as an ASGI callable."""

    def __init__(self, mock: MockState) -> None:
        self.mock = mock

    async def __call__(self, scope: Scope, receive: Receive, send: Send, path_params: dict[str, str]) -> None:
        if scope["method"] != "POST":
            body = error_body(status.HTTP_405_METHOD_NOT_ALLOWED, spec=self.mock.spec)
            await _respond(send, status.HTTP_405_METHOD_NOT_ALLOWED, body, [*_JSON_HEADERS, (b"allow", b"POST")])
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._handle(scope, receive, send_tracking, path_params)
        except ApiError as error:
            headers = [
                (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in error.headers.items()
            ]
            await _respond(send, error.status_code, error.body(self.mock.spec), [*_JSON_HEADERS, *headers])
        except ClientGone:
            raise
        except InjectedConnectionReset:
            raise
        except Exception:
            logger.exception("Send Event failed")
            if started:
                raise
            body = error_body(status.HTTP_500_INTERNAL_SERVER_ERROR, spec=self.mock.spec)
            await _respond(send, status.HTTP_500_INTERNAL_SERVER_ERROR, body, _JSON_HEADERS)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, path_params: dict[str, str]) -> None:
        mock = self.mock
        epoch = mock.store.epoch  # a reset after this point makes the request store nothing
        headers = _headers(scope)
        principal, admission = self._admit(headers)
        raw_body = await self._body(headers, receive)
        request = self._validate(scope, headers, path_params, principal, raw_body)

        # Faults, then 201.
        fault: Fault | None = mock.faults.choose(request.fault_request, request.person, request.event_id)
        if fault is not None and fault.kind is FaultKind.DELAY:
            await mock.sleep(fault.delay_ms / 1000)
            fault = None
        if fault is not None and not fault.after_store:
            await fault.response(mock.spec)(scope, receive, send)
            return
        try:
            recorded = mock.store.record_event(
                request.person,
                event_id=request.event_id,
                definition_id=request.definition_id,
                properties=request.properties,
                accepted_at=admission.at,
                create_person=request.create_person,
                epoch=epoch,
            )
        except StoreFull as exc:
            raise ApiError(status.HTTP_500_INTERNAL_SERVER_ERROR, f"The mock's store is full: {exc}") from None
        if recorded is None:  # the person went away since the check (a reset in between)
            raise ApiError(status.HTTP_404_NOT_FOUND, "Person not found")
        if fault is not None:
            await fault.response(mock.spec)(scope, receive, send)
            return
        await _respond(send, status.HTTP_201_CREATED, recorded[0].response_json(), _JSON_HEADERS)

    def _admit(self, headers: dict[bytes, list[str]]) -> tuple[Principal, Admission]:
        """401, 403, 429: every authenticated request asks the limiter, even one answered 403."""
        principal = self.mock.authenticator.authenticate(headers.get(b"authorization", []))
        if principal is None:
            raise ApiError(
                status.HTTP_401_UNAUTHORIZED, "Unauthorized", headers={"WWW-Authenticate": _WWW_AUTHENTICATE}
            )
        admission = self.mock.limiter.acquire(principal.account)
        if not principal.may_send_events:
            raise ApiError(status.HTTP_403_FORBIDDEN, "Forbidden: the credentials lack the people:manage scope")
        if not admission.admitted:
            raise ApiError(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"Too many requests: over {self.mock.limiter.limit(principal.account)} requests per second",
                headers={"Retry-After": str(admission.retry_after)},
            )
        return principal, admission

    async def _body(self, headers: dict[bytes, list[str]], receive: Receive) -> bytes:
        """413, 415: the body within the spec's size limit, with a JSON media type and no content coding."""
        limit = self.mock.spec.max_body_bytes
        _declared_length(headers, limit)
        raw_body = await read_body(receive, limit, too_large_text=f"Request body is larger than {limit} bytes")
        _check_media(headers, bool(raw_body))
        return raw_body

    def _validate(
        self,
        scope: Scope,
        headers: dict[bytes, list[str]],
        path_params: dict[str, str],
        principal: Principal,
        raw_body: bytes,
    ) -> _Valid:
        """400, then 404 (createPerson creates only after every check passed, in the same step as the event)."""
        mock, spec = self.mock, self.mock.spec
        errors: ValidationErrors = {}
        person_id = decode_path_segment(path_params["person_id"])
        definition_id = decode_path_segment(path_params["definition_id"])
        validate_path_ids(person_id, definition_id, errors, spec)
        query = parse_send_event_query(scope["query_string"], errors, spec)
        fault_request = _fault_request(headers, errors)
        event_id: str | None = None
        properties: dict[str, Any] | None = None
        if raw_body:
            try:
                event_id, properties = validate_event_body(parse_json(raw_body), errors, spec)
            except InvalidJson as exc:
                errors["body"] = [str(exc)]
        elif spec.body_required:
            errors["body"] = ["is required"]
        definition = None
        if definition_id is not None and "definitionId" not in errors:
            definition = mock.store.definition(principal.account, definition_id)
        if definition is not None and properties is not None:
            definition.validate(properties, errors)
        if errors or query is None or person_id is None or definition_id is None:
            raise ApiError(status.HTTP_400_BAD_REQUEST, "Bad request", validation_errors=errors)

        person = PersonKey(principal.account, query.identifier_type, person_id)
        if definition is None:
            raise ApiError(status.HTTP_404_NOT_FOUND, f"Event definition not found: {definition_id[:100]}")
        create_person = query.create_person and query.identifier_type in CREATABLE_IDENTIFIER_TYPES
        if not create_person and not mock.store.has_person(person):
            raise ApiError(status.HTTP_404_NOT_FOUND, "Person not found")
        return _Valid(person, definition_id, event_id, properties, create_person, fault_request)


@dataclass(frozen=True, slots=True)
class _Valid:
    """A request that passed every check up to 404."""

    person: PersonKey
    definition_id: str
    event_id: str | None
    properties: dict[str, Any] | None
    create_person: bool
    fault_request: FaultRequest | None
