"""Checks of our own, registered with schemathesis: every run uses them beside the built-in ones, the pytest suite's
and the CLI's (``SCHEMATHESIS_HOOKS=contract_tests.checks``, see `make fuzz-url`).

- `error_body_is_infobip_envelope`: every error, documented status or not (405 too), is JSON in Infobip's
  envelope, ``{"requestError": {"serviceException": {"messageId", "text"}}}``.
- `created_event_echoes_the_request`: a 201 records the definitionId of the path, the eventId sent, and the
  properties sent (no properties, null and ``{}`` all mean none). A request whose eventId was already recorded for
  the person must return that event instead (the idempotency rule).
- `repeated_event_id_returns_the_same_event`: replaying a 201 whose body carried an eventId returns 201
  with the very same event (the same eventId is recorded once).
- `invalid_identifier_type_is_rejected`: an identifierType outside the spec's enum (absent, repeated,
  lower case, unknown) is a 400. Plain schemathesis cannot see a server that accepts one: with a random
  person the lookup answers 404, which `negative_data_rejection` counts as a rejection.
- `known_person_request_is_created`: a schema-valid request about a person and definition known to exist (the
  target's seeds, see `configure`) gets 201. The only 400 accepted is the one documented rule that the schema
  cannot show: properties are validated against the event definition (openapi.yaml, EventRequest.properties), so
  a 400 whose validationErrors are all about `properties.<field>` is accepted, for properties other than the
  known-good ones. schemathesis.toml's `positive_data_acceptance` accepts 400 and 404 for any case; this check is
  the stricter rule for cases where the person and definition exist.

A check raises AssertionError to fail, and returns True when it does not apply to the response.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

import schemathesis
from schemathesis import Case, CheckContext, Response

from .live import EventBudgetExhausted
from .spec import SEND_EVENT_PATH, documented_statuses, error_envelope_errors, identifier_types

__all__ = [
    "KnownIds",
    "configure",
    "created_event_echoes_the_request",
    "error_body_is_infobip_envelope",
    "invalid_identifier_type_is_rejected",
    "known_person_request_is_created",
    "repeated_event_id_returns_the_same_event",
    "same_properties",
]

_CREATED: Final = 201
_BAD_REQUEST: Final = 400
_THROTTLED: Final = 429
_NOT_FOUND: Final = 404
#: What may answer a request whose identifierType is invalid: 400 itself, or any documented 4xx that a server may
#: check first (credentials, scope, the limit, size, media type: docs/ARCHITECTURE.md, "The reference mock", gives
#: its order), but never the person lookup's 404, which would mean the value was taken as an identifier type.
_ANSWERS_BEFORE_QUERY_VALIDATION: Final = frozenset(
    status for status in documented_statuses() if 400 <= status < 500 and status != _NOT_FOUND
)
#: The segments of the Send Event path before, between and after its two ids.
_PATH_SEGMENTS: Final = SEND_EVENT_PATH.strip("/").split("/")
_PERSON_AT: Final = _PATH_SEGMENTS.index("{personId}")
_DEFINITION_AT: Final = _PATH_SEGMENTS.index("{definitionId}")
_PROPERTIES_RULE: Final = "properties"


@dataclass(slots=True)
class KnownIds:
    """What the run knows exists on the target: (identifierType, personId) pairs, definitions, and properties the
    definitions accept. Empty for a CLI run against an unknown server, where `known_person_request_is_created`
    does not apply."""

    persons: frozenset[tuple[str, str]] = frozenset()
    definitions: frozenset[str] = frozenset()
    properties: Mapping[str, Any] | None = None
    #: The first event recorded per (server, identifierType, personId, eventId) in this run: a later request with
    #: the same eventId must return it.
    recorded: dict[tuple[str, str, str, str], Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


KNOWN: Final = KnownIds()


def configure(persons: set[tuple[str, str]], definitions: set[str], properties: Mapping[str, Any] | None) -> None:
    """Tell the checks which persons and definitions exist on the target, and which properties they accept."""
    KNOWN.persons, KNOWN.definitions, KNOWN.properties = frozenset(persons), frozenset(definitions), properties


def _header(response: Response, name: str) -> str:
    values = response.headers.get(name.lower(), [])
    return values[0] if values else ""


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _sent_path_ids(response: Response) -> tuple[str, str] | None:
    """(personId, definitionId) as the server received them, decoded; None when the path is not Send Event's."""
    parts = urlsplit(response.request.url or "").path.strip("/").split("/")
    if len(parts) < len(_PATH_SEGMENTS):
        return None
    parts = parts[-len(_PATH_SEGMENTS) :]
    ids = {_PERSON_AT, _DEFINITION_AT}
    if any(parts[i] != segment for i, segment in enumerate(_PATH_SEGMENTS) if i not in ids):
        return None
    return unquote(parts[_PERSON_AT]), unquote(parts[_DEFINITION_AT])


def _sent_query(response: Response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response.request.url or "").query, keep_blank_values=True)


def _sent_body(response: Response) -> Any:
    body = response.request.body
    if not isinstance(body, bytes | str) or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def same_properties(sent: Any, recorded: Any) -> bool:
    """Whether recorded properties are the ones sent: equal JSON, where absent, null and {} all mean none."""
    return (sent or None) == (recorded or None)


def _server(response: Response, case: Case[Any]) -> str:
    """Which server answered: the in-process app, or the URL's host (replays are tracked per server)."""
    app = case.operation.app
    return f"app-{id(app)}" if app is not None else urlsplit(response.request.url or "").netloc


def _sent_identity(response: Response) -> tuple[str, str] | None:
    ids = _sent_path_ids(response)
    types = _sent_query(response).get("identifierType", [])
    if ids is None or len(types) != 1:
        return None
    return types[0], ids[0]


@schemathesis.check
def error_body_is_infobip_envelope(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every 4xx and 5xx is JSON in Infobip's envelope, whatever the status."""
    if response.status_code < 400:
        return True
    content_type = _header(response, "content-type")
    if not content_type.lower().startswith("application/json"):
        raise AssertionError(
            f"{response.status_code} has Content-Type {content_type or '(none)'}, not Infobip's JSON error envelope"
        )
    problems = error_envelope_errors(_json(response))
    if problems:
        raise AssertionError(f"{response.status_code} body is not Infobip's error envelope: {'; '.join(problems)}")
    return None


@schemathesis.check
def created_event_echoes_the_request(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A 201 records the definitionId of the path, and the eventId and properties of the body; a request whose
    eventId the person already has returns the event recorded first."""
    ids = _sent_path_ids(response)
    if response.status_code != _CREATED or ids is None:
        return True
    event = _json(response)
    if not isinstance(event, dict):
        raise AssertionError("201 without a JSON object")
    if event.get("definitionId") != ids[1]:
        raise AssertionError(f"201 records definitionId {event.get('definitionId')!r}, the path says {ids[1]!r}")
    sent = _sent_body(response)
    sent = sent if isinstance(sent, dict) else {}
    event_id = sent.get("eventId")
    if isinstance(event_id, str) and event.get("eventId") != event_id:
        raise AssertionError(f"201 records eventId {event.get('eventId')!r}, the request sent {event_id!r}")
    identity = _sent_identity(response)
    key = (_server(response, case), *identity, event_id) if identity and isinstance(event_id, str) else None
    with KNOWN.lock:
        first = KNOWN.recorded.setdefault(key, event) if key is not None else event
    if first is not event:
        if first != event:
            raise AssertionError(f"eventId {event_id!r} sent again returned another event than the first: {event}")
        return None
    if not same_properties(sent.get("properties"), event.get("properties")):
        raise AssertionError(
            f"201 records properties {event.get('properties')!r}, the request sent {sent.get('properties')!r}"
        )
    return None


@schemathesis.check
def repeated_event_id_returns_the_same_event(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Sending a 201's request again (same eventId) returns 201 with the same event: nothing new is recorded."""
    sent = _sent_body(response)
    if response.status_code != _CREATED or not isinstance(sent, dict) or not isinstance(sent.get("eventId"), str):
        return True
    # Resend as the built-in checks' probes do: the run's transport settings (in-process app, base URL,
    # or the live run's guarded session). `ctx.internals` is schemathesis's, pinned with it.
    kwargs = dict(ctx.internals.transport_kwargs or {})
    if case.operation.app is not None:
        kwargs.setdefault("app", case.operation.app)
    try:
        replay = case.operation.schema.transport.send(case, **kwargs)
    except EventBudgetExhausted:
        return True
    if replay.status_code == _THROTTLED:
        return True
    if replay.status_code != _CREATED:
        raise AssertionError(f"the same eventId sent again got {replay.status_code}, not 201 with the original event")
    first, again = _json(response), _json(replay)
    if first != again:
        raise AssertionError(f"the same eventId sent again returned another event:\n  first: {first}\n  again: {again}")
    return None


@schemathesis.check
def invalid_identifier_type_is_rejected(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A request whose identifierType is absent, repeated or outside the enum (e.g. lower case) gets 400."""
    if case.method.upper() != "POST" or _sent_path_ids(response) is None:
        return True
    sent = _sent_query(response).get("identifierType", [])
    if len(sent) == 1 and sent[0] in identifier_types():
        return True
    if response.status_code not in _ANSWERS_BEFORE_QUERY_VALIDATION:
        shown = ", ".join(repr(value) for value in sent) or "none"
        raise AssertionError(f"identifierType {shown} is not one of the spec's values, yet got {response.status_code}")
    return None


def _only_about_properties(response: Response) -> bool:
    """Whether a 400 is explained by the event definition: every validationErrors key is ``properties.<field>``."""
    body = _json(response)
    try:
        keys = list(body["requestError"]["serviceException"]["validationErrors"])
    except (TypeError, KeyError):
        return False
    return bool(keys) and all(key.startswith(f"{_PROPERTIES_RULE}.") for key in keys)


@schemathesis.check
def known_person_request_is_created(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A schema-valid request about an existing person and definition gets 201; a 400 only for properties that
    the event definition rejects (the documented rule), never for the known-good properties."""
    mode = case.meta.generation.mode if case.meta is not None else None
    identity, ids = _sent_identity(response), _sent_path_ids(response)
    if (
        mode is None
        or not mode.is_positive
        or identity is None
        or ids is None
        or identity not in KNOWN.persons
        or ids[1] not in KNOWN.definitions
        or response.status_code == _THROTTLED
    ):
        return True
    if response.status_code == _CREATED:
        return None
    sent = _sent_body(response)
    properties = sent.get("properties") if isinstance(sent, dict) else None
    explained = (
        response.status_code == _BAD_REQUEST
        and isinstance(properties, dict)
        and bool(properties)
        and not same_properties(properties, KNOWN.properties)
        and _only_about_properties(response)
    )
    if explained:
        return None
    why = (
        "400 is right only for properties the event definition rejects, keyed properties.<field>"
        if response.status_code == _BAD_REQUEST
        else "only 201 is right"
    )
    raise AssertionError(
        f"a schema-valid request about {identity[0]} {identity[1]!r} and definition {ids[1]!r}, which exist, "
        f"got {response.status_code}: {why}"
    )
