"""The admin API under /_mock: test-only, unauthenticated. Never expose it beyond loopback.

- ``GET /_mock/health``: ``{"status": "ok"}``.
- ``POST /_mock/reset``: back to the fixtures; no events; limiter and faults cleared.
- ``POST /_mock/persons`` ``{"account", "identifierType", "personId"}``: 201, or 200 if it existed.
- ``POST /_mock/definitions`` ``{"account", "definition"}``, the definition in Infobip's
  create-definition shape: 201, or 200 if it replaced one.
- ``GET /_mock/events?account=&identifierType=&personId=&definitionId=&eventId=``:
  ``{"count", "events": [...]}`` in storage order, each event with its account, its person and
  ``acceptedAt`` (POSIX seconds when the limiter admitted its request; occurredTime is the same
  instant).
- ``GET /_mock/faults``: the active fault rules.
- ``PUT /_mock/faults`` ``{"fault", "probability"}`` or ``{"fault", "next"}``: see faults.py.
- ``DELETE /_mock/faults``: clear every fault rule and counter.

Errors use the same Infobip envelope as the API.
"""

from __future__ import annotations

from typing import Any

from starlette import status
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from people_events_mock.constants import ADMIN_PREFIX, IDENTIFIER_TYPES, PERSON_ID_MAX_LENGTH
from people_events_mock.errors import ApiError, ValidationErrors
from people_events_mock.faults import FaultRule, parse_fault
from people_events_mock.fixtures import schema_errors
from people_events_mock.state import mock_state
from people_events_mock.store import EventFilter, PersonKey
from people_events_mock.validation import DefinitionError, InvalidJson, compile_definition, parse_json

__all__ = ["admin_routes"]

_MAX_ADMIN_BODY_BYTES = 1_000_000


def _bad_request(errors: ValidationErrors) -> ApiError:
    return ApiError(status.HTTP_400_BAD_REQUEST, "Bad request", validation_errors=errors)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > _MAX_ADMIN_BODY_BYTES:
        raise ApiError(status.HTTP_413_CONTENT_TOO_LARGE, f"Admin bodies are limited to {_MAX_ADMIN_BODY_BYTES} bytes")
    try:
        body = parse_json(raw)
    except InvalidJson as exc:
        raise _bad_request({"body": [str(exc)]}) from None
    if not isinstance(body, dict):
        raise _bad_request({"body": ["must be a JSON object"]})
    return body


def _account(request: Request, body: dict[str, Any], errors: ValidationErrors) -> str | None:
    account = body.get("account")
    if account not in mock_state(request.app).store.accounts():
        errors["account"] = [f"must be one of {', '.join(mock_state(request.app).store.accounts())}"]
        return None
    assert isinstance(account, str)
    return account


async def health(request: Request) -> Response:
    """GET /_mock/health"""
    return JSONResponse({"status": "ok"})


async def reset(request: Request) -> Response:
    """POST /_mock/reset"""
    mock_state(request.app).reset()
    return JSONResponse({"status": "reset"})


async def add_person(request: Request) -> Response:
    """POST /_mock/persons"""
    body = await _json_object(request)
    errors: ValidationErrors = {}
    account = _account(request, body, errors)
    identifier_type = body.get("identifierType")
    if identifier_type not in IDENTIFIER_TYPES:
        errors["identifierType"] = [f"must be one of {', '.join(IDENTIFIER_TYPES)}"]
    person_id = body.get("personId")
    if not isinstance(person_id, str) or not 1 <= len(person_id) <= PERSON_ID_MAX_LENGTH:
        errors["personId"] = [f"must be a string of 1-{PERSON_ID_MAX_LENGTH} characters"]
    if errors or account is None:
        raise _bad_request(errors)
    assert isinstance(identifier_type, str)
    assert isinstance(person_id, str)
    new = mock_state(request.app).store.add_person(PersonKey(account, identifier_type, person_id))
    return JSONResponse(
        {"account": account, "identifierType": identifier_type, "personId": person_id},
        status_code=status.HTTP_201_CREATED if new else status.HTTP_200_OK,
    )


async def put_definition(request: Request) -> Response:
    """POST /_mock/definitions"""
    body = await _json_object(request)
    errors: ValidationErrors = {}
    account = _account(request, body, errors)
    raw_definition = body.get("definition")
    for path, messages in schema_errors(raw_definition, definition="definition").items():
        errors[f"definition{path.removeprefix('$')}"] = messages
    if errors or account is None or not isinstance(raw_definition, dict):
        raise _bad_request(errors)
    try:
        definition = compile_definition(raw_definition)
    except DefinitionError as exc:
        raise _bad_request({f"definition.{path}": messages for path, messages in exc.errors.items()}) from None
    new = mock_state(request.app).store.put_definition(account, definition)
    return JSONResponse(
        {"account": account, "definition": raw_definition},
        status_code=status.HTTP_201_CREATED if new else status.HTTP_200_OK,
    )


async def list_events(request: Request) -> Response:
    """GET /_mock/events"""
    params = request.query_params
    where = EventFilter(
        account=params.get("account"),
        identifier_type=params.get("identifierType"),
        person_id=params.get("personId"),
        definition_id=params.get("definitionId"),
        event_id=params.get("eventId"),
    )
    events = [event.admin_view() for event in mock_state(request.app).store.events(where)]
    return JSONResponse({"count": len(events), "events": events})


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
        Route(f"{ADMIN_PREFIX}/definitions", put_definition, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/events", list_events, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/faults", faults, methods=["GET", "PUT", "DELETE"]),
    ]
