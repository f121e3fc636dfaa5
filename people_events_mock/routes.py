"""The Send Event route, matched on the raw path, and its handler.

Checks run in DESIGN.md's order, and the first failure answers:
401 credentials -> 403 scope -> 429 rate limit -> 413 size -> 415 media type -> 400 validation
-> 404 person/definition -> (faults) -> 201. A rejected request stores nothing and creates no person.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection
from typing import Any
from urllib.parse import quote

from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound, request_response
from starlette.types import Receive, Scope, Send

from people_events_mock.constants import (
    CREATABLE_IDENTIFIER_TYPES,
    FAULT_HEADER,
    MAX_BODY_BYTES,
    SEND_EVENT_PATH_REGEX,
)
from people_events_mock.errors import ApiError, ValidationErrors
from people_events_mock.faults import FaultKind, FaultRequest, parse_fault_header
from people_events_mock.state import MockState, mock_state
from people_events_mock.store import PersonKey
from people_events_mock.validation import (
    InvalidJson,
    decode_path_segment,
    is_json_media_type,
    parse_json,
    parse_send_event_query,
    validate_event_body,
    validate_path_ids,
)

__all__ = ["RawPathRoute", "raw_path", "send_event", "send_event_route"]

_WWW_AUTHENTICATE = 'App realm="people-events", Basic realm="people-events", IBSSO, Bearer'
_MAX_CONTENT_LENGTH_DIGITS = 20


def raw_path(scope: Scope) -> str:
    """The request path as sent, still percent-encoded (without the query string)."""
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        return quote(scope["path"], safe="/:@!$&'()*+,;=~-._")
    return raw.split(b"?", 1)[0].decode("latin-1")


class RawPathRoute(BaseRoute):
    """A route matched against the raw path, so an id holding ``%2F`` reaches the handler.

    Starlette's routing uses the decoded path, where ``a%2Fb`` becomes two segments and answers a
    plain-text 404. The raw segments land in ``path_params``; the handler decodes them.
    """

    def __init__(
        self,
        pattern: re.Pattern[str],
        endpoint: Callable[[Request], Awaitable[Response]],
        *,
        methods: Collection[str],
        name: str,
    ) -> None:
        self.pattern = pattern
        self.endpoint = endpoint
        self.methods = frozenset(method.upper() for method in methods)
        self.name = name
        self.app = request_response(endpoint)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        found = self.pattern.match(raw_path(scope))
        if found is None:
            return Match.NONE, {}
        child_scope = {"endpoint": self.endpoint, "path_params": found.groupdict()}
        return (Match.FULL if scope["method"] in self.methods else Match.PARTIAL), child_scope

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in self.methods:
            raise HTTPException(status.HTTP_405_METHOD_NOT_ALLOWED, headers={"Allow": ", ".join(sorted(self.methods))})
        await self.app(scope, receive, send)


async def _read_body(request: Request) -> bytes:
    """The body, or 413 as soon as it is known to exceed MAX_BODY_BYTES."""
    too_large = ApiError(status.HTTP_413_CONTENT_TOO_LARGE, f"Request body is larger than {MAX_BODY_BYTES} bytes")
    declared = request.headers.get("content-length")
    if declared is not None:
        # As h11 does over HTTP: ASCII digits only, at most 20 of them (int() of 10,000 digits raises, and
        # str.isdigit() accepts "²", which int() refuses). In-process callers reach here unchecked.
        if not (declared.isascii() and declared.isdigit() and len(declared) <= _MAX_CONTENT_LENGTH_DIGITS):
            raise ApiError(
                status.HTTP_400_BAD_REQUEST,
                "Bad request",
                validation_errors={"Content-Length": ["must be a whole number of bytes"]},
            )
        if int(declared) > MAX_BODY_BYTES:
            raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _fault_request(request: Request, errors: ValidationErrors) -> FaultRequest | None:
    values = request.headers.getlist(FAULT_HEADER)
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


async def send_event(request: Request) -> Response:
    """POST /peopleevents/2/persons/{personId}/definitions/{definitionId}/events"""
    mock: MockState = mock_state(request.app)

    # 401, 403, 429: every authenticated request asks the limiter, even one answered 403.
    principal = mock.authenticator.authenticate(request.headers.getlist("authorization"))
    if principal is None:
        raise ApiError(status.HTTP_401_UNAUTHORIZED, "Unauthorized", headers={"WWW-Authenticate": _WWW_AUTHENTICATE})
    admission = mock.limiter.acquire(principal.account)
    if not principal.may_send_events:
        raise ApiError(status.HTTP_403_FORBIDDEN, "Forbidden: the credentials lack the people:manage scope")
    if not admission.admitted:
        raise ApiError(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Too many requests: over {mock.limiter.limit(principal.account)} requests per second",
            headers={"Retry-After": str(admission.retry_after)},
        )

    # 413, 415
    raw_body = await _read_body(request)
    if raw_body and not is_json_media_type(request.headers.get("content-type", "")):
        raise ApiError(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be a JSON media type")

    # 400
    errors: ValidationErrors = {}
    person_id = decode_path_segment(request.path_params["person_id"])
    definition_id = decode_path_segment(request.path_params["definition_id"])
    validate_path_ids(person_id, definition_id, errors)
    query = parse_send_event_query(request.scope["query_string"], errors)
    fault_request = _fault_request(request, errors)
    event_id: str | None = None
    properties: dict[str, Any] | None = None
    if raw_body:
        try:
            event_id, properties = validate_event_body(parse_json(raw_body), errors)
        except InvalidJson as exc:
            errors["body"] = [str(exc)]
    definition = None
    if definition_id is not None and "definitionId" not in errors:
        definition = mock.store.definition(principal.account, definition_id)
    if definition is not None and properties is not None:
        definition.validate(properties, errors)
    if errors or query is None or person_id is None or definition_id is None:
        raise ApiError(status.HTTP_400_BAD_REQUEST, "Bad request", validation_errors=errors)

    # 404 (createPerson creates only after every check passed, in the same step as the event)
    person = PersonKey(principal.account, query.identifier_type, person_id)
    if definition is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, f"Event definition not found: {definition_id}")
    create_person = query.create_person and query.identifier_type in CREATABLE_IDENTIFIER_TYPES
    if not create_person and not mock.store.has_person(person):
        raise ApiError(status.HTTP_404_NOT_FOUND, "Person not found")

    # Faults, then 201.
    fault = mock.faults.choose(fault_request, person, event_id)
    if fault is not None and fault.kind is FaultKind.DELAY:
        await mock.sleep(fault.delay_ms / 1000)
        fault = None
    if fault is not None and not fault.after_store:
        return fault.response()
    recorded = mock.store.record_event(
        person,
        event_id=event_id,
        definition_id=definition_id,
        properties=properties,
        accepted_at=admission.at,
        create_person=create_person,
    )
    if recorded is None:  # the person went away since the check above (a concurrent reset)
        raise ApiError(status.HTTP_404_NOT_FOUND, "Person not found")
    event, _ = recorded
    if fault is not None:
        return fault.response()
    return JSONResponse(event.response_body(), status_code=status.HTTP_201_CREATED)


def send_event_route() -> RawPathRoute:
    """The Send Event route."""
    return RawPathRoute(SEND_EVENT_PATH_REGEX, send_event, methods=["POST"], name="send_event")
