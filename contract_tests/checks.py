"""Checks of our own, registered with schemathesis: every run uses them beside the built-in ones.

- `error_body_is_infobip_envelope`: every error, documented status or not (405 too), is JSON in Infobip's
  envelope, ``{"requestError": {"serviceException": {"messageId", "text"}}}``.
- `created_event_echoes_the_request`: a 201 records the definitionId of the path, and the eventId sent.
- `repeated_event_id_returns_the_same_event`: replaying a 201 whose body carried an eventId returns 201
  with the very same event (the same eventId is recorded once).
- `invalid_identifier_type_is_rejected`: an identifierType outside the spec's enum (absent, repeated,
  lower case, unknown) is a 400. Plain schemathesis cannot see a server that accepts one: with a random
  person the lookup answers 404, which `negative_data_rejection` counts as a rejection.

A check raises AssertionError to fail, and returns True when it does not apply to the response.
"""

from __future__ import annotations

import json
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

import schemathesis
from schemathesis import Case, CheckContext, Response

from .live import EventBudgetExhausted
from .spec import error_envelope_errors, identifier_types

__all__ = [
    "created_event_echoes_the_request",
    "error_body_is_infobip_envelope",
    "invalid_identifier_type_is_rejected",
    "repeated_event_id_returns_the_same_event",
]

_CREATED: Final = 201
#: Statuses DESIGN.md's check order lets answer before identifierType is validated (401, 403, 429, 413,
#: 415), and 400 itself.
_ANSWERS_BEFORE_QUERY_VALIDATION: Final = frozenset({400, 401, 403, 413, 415, 429})


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
    parts = urlsplit(response.request.url or "").path.split("/")
    if len(parts) < 7 or parts[-5:-4] != ["persons"] or parts[-3:-2] != ["definitions"] or parts[-1] != "events":
        return None
    return unquote(parts[-4]), unquote(parts[-2])


def _sent_body(response: Response) -> Any:
    body = response.request.body
    if not isinstance(body, bytes | str) or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


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
    """A 201 records the definitionId of the path and the eventId of the body (when one was sent)."""
    ids = _sent_path_ids(response)
    if response.status_code != _CREATED or ids is None:
        return True
    event = _json(response)
    if not isinstance(event, dict):
        raise AssertionError("201 without a JSON object")
    if event.get("definitionId") != ids[1]:
        raise AssertionError(f"201 records definitionId {event.get('definitionId')!r}, the path says {ids[1]!r}")
    sent = _sent_body(response)
    event_id = sent.get("eventId") if isinstance(sent, dict) else None
    if isinstance(event_id, str) and event.get("eventId") != event_id:
        raise AssertionError(f"201 records eventId {event.get('eventId')!r}, the request sent {event_id!r}")
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
    sent = parse_qs(urlsplit(response.request.url or "").query, keep_blank_values=True).get("identifierType", [])
    if len(sent) == 1 and sent[0] in identifier_types():
        return True
    if response.status_code not in _ANSWERS_BEFORE_QUERY_VALIDATION:
        shown = ", ".join(repr(value) for value in sent) or "none"
        raise AssertionError(f"identifierType {shown} is not one of the spec's values, yet got {response.status_code}")
    return None
