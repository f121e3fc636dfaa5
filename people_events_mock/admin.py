"""The admin API under /_mock: for tests only. Never expose it beyond loopback.

- ``GET /_mock/health``: ``{"status": "ok", "store": {"events", "bytes", "maxBytes", "evicted", "createdPersons"}}``.
- ``POST /_mock/reset``: back to the fixtures; no events; limiter and faults cleared; a new epoch (a request
  admitted before the reset stores and creates nothing).
- ``POST /_mock/persons`` ``{"account", "identifierType", "personId"}``: 201, or 200 if it existed.
- ``POST /_mock/definitions`` ``{"account", "definition"}``, the definition in Infobip's create-definition
  shape: 201 when new, 200 when it replaced one.
- ``GET /_mock/events?account=&identifierType=&personId=&definitionId=&eventId=&limit=&after=``:
  ``{"count", "events": [...], "next"}`` in storage order, each event with its account, its person,
  ``acceptedAt`` (POSIX seconds when the limiter admitted its request; occurredTime is the same instant) and
  ``seq``. A page holds up to `limit` events (default and most 10,000, and at most 16 MiB of JSON); ``next``
  is the `after` of the next page, or null on the last one. `people_events_mock.testing.read_events` follows it.
- ``GET /_mock/faults``: the active fault rules.
- ``PUT /_mock/faults`` ``{"fault", "probability"}`` or ``{"fault", "next"}``: see faults.py.
- ``DELETE /_mock/faults``: clear every fault rule and counter.

Safety (docs/ARCHITECTURE.md, 'Admin API safety'), checked before any admin endpoint runs, by `admin_refusal`:
a body needs ``Content-Type: application/json`` (415), so a cross-site form or ``text/plain`` fetch cannot
reach it; a foreign ``Origin`` and a ``Host`` that is neither loopback nor the address the server is bound to
are refused (403), against cross-site requests and DNS rebinding; with an admin token (``--admin-token``), a
request needs ``Authorization: Bearer <token>`` (401). Bodies are streamed and refused past 1,000,000 bytes
(413) before more is read. Errors use the same Infobip envelope as the API.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any, Final
from urllib.parse import urlsplit

from starlette import status
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from people_events_mock.constants import (
    ADMIN_PREFIX,
    DEFAULT_PAGE_SIZE,
    MAX_ADMIN_BODY_BYTES,
    MAX_PAGE_BYTES,
    MAX_PAGE_SIZE,
)
from people_events_mock.definitions import DefinitionError, compile_definition
from people_events_mock.errors import ApiError, ValidationErrors
from people_events_mock.faults import FaultRule, parse_fault
from people_events_mock.fixtures import schema_errors
from people_events_mock.routes import read_body
from people_events_mock.state import MockState, mock_state
from people_events_mock.store import EventFilter, PersonKey, StoreFull
from people_events_mock.strict_json import InvalidJson, dumps, parse_json

__all__ = ["admin_refusal", "admin_routes", "is_loopback"]

_JSON_MEDIA_TYPE: Final = "application/json"
_MAX_CURSOR_DIGITS: Final = 18


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _hostname(authority: str) -> str:
    """The host of ``host[:port]`` or ``[v6]:port``, lower case."""
    try:
        return (urlsplit(f"//{authority}").hostname or "").lower()
    except ValueError:
        return authority.lower()


def _own_host(host: str, scope: Scope) -> bool:
    server = scope.get("server")
    return is_loopback(host) or (server is not None and host == str(server[0]).lower().strip("[]"))


def _json_media_type(value: bytes) -> bool:
    return value.decode("latin-1").partition(";")[0].strip().lower() == _JSON_MEDIA_TYPE


def admin_refusal(scope: Scope, mock: MockState) -> ApiError | None:
    """Why an admin request is refused (see the module docstring), or None."""
    headers: dict[bytes, list[bytes]] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name, []).append(value)
    hosts = headers.get(b"host", [])
    if len(hosts) > 1 or (hosts and not _own_host(_hostname(hosts[0].decode("latin-1")), scope)):
        return ApiError(
            status.HTTP_403_FORBIDDEN, "Forbidden: the admin API answers only to its own or a loopback Host"
        )
    for origin in headers.get(b"origin", []):
        if not _own_host(_hostname(origin.decode("latin-1").partition("://")[2]), scope):
            return ApiError(status.HTTP_403_FORBIDDEN, "Forbidden: the admin API refuses cross-origin requests")
    if mock.admin_token is not None:
        given = headers.get(b"authorization", [])
        if len(given) != 1 or not hmac.compare_digest(given[0].strip(), f"Bearer {mock.admin_token}".encode()):
            return ApiError(
                status.HTTP_401_UNAUTHORIZED,
                "Unauthorized: the admin API needs Authorization: Bearer <admin token>",
                headers={"WWW-Authenticate": 'Bearer realm="people-events-mock-admin"'},
            )
    content_types = headers.get(b"content-type", [])
    lengths = headers.get(b"content-length", [])
    has_body = b"transfer-encoding" in headers or any(value.strip() not in (b"", b"0") for value in lengths)
    if len(content_types) > 1 or (
        (has_body or content_types) and not _json_media_type(content_types[0] if content_types else b"")
    ):
        return ApiError(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Admin request bodies must be Content-Type: application/json"
        )
    return None


def _bad_request(errors: ValidationErrors) -> ApiError:
    return ApiError(status.HTTP_400_BAD_REQUEST, "Bad request", validation_errors=errors)


async def _json_object(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and len(declared) < 20 and int(declared) > MAX_ADMIN_BODY_BYTES:
        raise ApiError(
            status.HTTP_413_CONTENT_TOO_LARGE, f"Admin bodies are limited to {MAX_ADMIN_BODY_BYTES} bytes", close=True
        )
    raw = await read_body(
        request.receive,
        MAX_ADMIN_BODY_BYTES,
        too_large_text=f"Admin bodies are limited to {MAX_ADMIN_BODY_BYTES} bytes",
    )
    try:
        body = parse_json(raw)
    except InvalidJson as exc:
        raise _bad_request({"body": [str(exc)]}) from None
    if not isinstance(body, dict):
        raise _bad_request({"body": ["must be a JSON object"]})
    return body


def _account(mock: MockState, body: dict[str, Any], errors: ValidationErrors) -> str | None:
    account = body.get("account")
    if account not in mock.store.accounts():
        errors["account"] = [f"must be one of {', '.join(mock.store.accounts())}"]
        return None
    assert isinstance(account, str)
    return account


async def health(request: Request) -> Response:
    """GET /_mock/health"""
    return JSONResponse({"status": "ok", "store": mock_state(request.app).store.stats()})


async def reset(request: Request) -> Response:
    """POST /_mock/reset"""
    mock_state(request.app).reset()
    return JSONResponse({"status": "reset"})


async def add_person(request: Request) -> Response:
    """POST /_mock/persons"""
    mock = mock_state(request.app)
    epoch = mock.store.epoch
    body = await _json_object(request)
    errors: ValidationErrors = {}
    account = _account(mock, body, errors)
    identifier_type = body.get("identifierType")
    if identifier_type not in mock.spec.identifier_types:
        errors["identifierType"] = [f"must be one of {', '.join(mock.spec.identifier_types)}"]
    person_id = body.get("personId")
    minimum, maximum = mock.spec.person_id_length
    if not isinstance(person_id, str) or not max(1, minimum) <= len(person_id) <= maximum:
        errors["personId"] = [f"must be a string of {max(1, minimum)}-{maximum} characters"]
    if errors or account is None:
        raise _bad_request(errors)
    assert isinstance(identifier_type, str)
    assert isinstance(person_id, str)
    try:
        new = mock.store.add_person(PersonKey(account, identifier_type, person_id), epoch=epoch)
    except StoreFull as exc:
        raise ApiError(status.HTTP_500_INTERNAL_SERVER_ERROR, f"The mock's store is full: {exc}") from None
    return JSONResponse(
        {"account": account, "identifierType": identifier_type, "personId": person_id},
        status_code=status.HTTP_201_CREATED if new else status.HTTP_200_OK,
    )


async def add_definition(request: Request) -> Response:
    """POST /_mock/definitions: adds a definition, or replaces the account's definition of the same id."""
    mock = mock_state(request.app)
    epoch = mock.store.epoch
    body = await _json_object(request)
    errors: ValidationErrors = {}
    account = _account(mock, body, errors)
    raw_definition = body.get("definition")
    for path, messages in schema_errors(raw_definition, definition="definition", spec=mock.spec).items():
        errors[f"definition{path.removeprefix('$')}"] = messages
    if errors or account is None or not isinstance(raw_definition, dict):
        raise _bad_request(errors)
    try:
        definition = compile_definition(raw_definition)
    except DefinitionError as exc:
        raise _bad_request({f"definition.{path}": messages for path, messages in exc.errors.items()}) from None
    new = mock.store.put_definition(account, definition, epoch=epoch)
    return JSONResponse(
        {"account": account, "definition": raw_definition},
        status_code=status.HTTP_201_CREATED if new else status.HTTP_200_OK,
    )


def _whole_number(params: Any, name: str, default: int, errors: ValidationErrors) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= _MAX_CURSOR_DIGITS):
        errors[name] = ["must be a whole number"]
        return default
    return int(text)


async def list_events(request: Request) -> Response:
    """GET /_mock/events"""
    params = request.query_params
    errors: ValidationErrors = {}
    limit = _whole_number(params, "limit", DEFAULT_PAGE_SIZE, errors)
    after = _whole_number(params, "after", 0, errors)
    if not 1 <= limit <= MAX_PAGE_SIZE and "limit" not in errors:
        errors["limit"] = [f"must be 1-{MAX_PAGE_SIZE}"]
    if errors:
        raise _bad_request(errors)
    where = EventFilter(
        account=params.get("account"),
        identifier_type=params.get("identifierType"),
        person_id=params.get("personId"),
        definition_id=params.get("definitionId"),
        event_id=params.get("eventId"),
    )
    page = mock_state(request.app).store.page(where, after=after, limit=limit, max_bytes=MAX_PAGE_BYTES)
    # Each stored event renders its own JSON; the page is joined, not re-encoded.
    body = b"".join(
        (
            b'{"count":',
            str(len(page.events)).encode("ascii"),
            b',"events":[',
            b",".join(event.admin_json() for event in page.events),
            b'],"next":',
            dumps(None if page.next_after is None else str(page.next_after)),
            b"}",
        )
    )
    return Response(body, media_type="application/json")


async def faults(request: Request) -> Response:
    """GET, PUT and DELETE /_mock/faults"""
    book = mock_state(request.app).faults
    if request.method == "DELETE":
        book.reset()
        return JSONResponse({"faults": []})
    if request.method == "PUT":
        book.set_rule(_fault_rule(await _json_object(request)))
    return JSONResponse({"faults": [rule.as_json() for rule in book.rules()]})


def _fault_rule(body: dict[str, Any]) -> FaultRule:
    errors: ValidationErrors = {}
    fault = None
    try:
        fault = parse_fault(body["fault"]) if isinstance(body.get("fault"), str) else None
    except ValueError as exc:
        errors["fault"] = [str(exc)]
    if fault is None and "fault" not in errors:
        errors["fault"] = ["is required: a fault name such as 500 or delay=250"]
    probability, count = body.get("probability"), body.get("next")
    if (probability is None) == (count is None):
        errors["probability"] = ["give exactly one of probability and next"]
    elif probability is not None and (
        isinstance(probability, bool) or not isinstance(probability, int | float) or not 0 <= probability <= 1
    ):
        errors["probability"] = ["must be a number from 0 to 1"]
    elif count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        errors["next"] = ["must be a whole number >= 1"]
    if errors or fault is None:
        raise _bad_request(errors)
    return FaultRule(fault, probability=None if probability is None else float(probability), next=count)


def admin_routes() -> list[BaseRoute]:
    """The admin API's routes."""
    return [
        Route(f"{ADMIN_PREFIX}/health", health, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/reset", reset, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/persons", add_person, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/definitions", add_definition, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/events", list_events, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/faults", faults, methods=["GET", "PUT", "DELETE"]),
    ]
