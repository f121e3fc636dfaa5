"""Typed errors of the People Events client.

Every outcome of ``send`` other than a 201 raises one of these::

    PeopleEventsError          any other unmapped status (e.g. 409, 413, 415, 499), or a malformed 201
     +-- BadRequest            400: invalid input; see ``validation_errors``
     +-- Unauthorized          401: missing or wrong credentials
     +-- Forbidden             403: the credentials lack a needed scope
     +-- NotFound              404: unknown person or event definition
     +-- RateLimited           429: over the account's limit, after every retry
     +-- ServerError           any 5xx, after every retry
     +-- TransportError        no response: connection failure, timeout, dropped connection, deadline

Messages carry the status and Infobip's messageId and text, never credentials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from ._retry_after import parse_retry_after

__all__ = (
    "BadRequest",
    "Forbidden",
    "NotFound",
    "PeopleEventsError",
    "RateLimited",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "error_from_response",
)


class PeopleEventsError(Exception):
    """Base of every error raised by the client; raised itself for statuses with no class of their own."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        message_id: str | None = None,
        text: str | None = None,
        validation_errors: Mapping[str, list[str]] | None = None,
        retry_after: float | None = None,
        event_id: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message_id = message_id
        self.text = text
        self.validation_errors: dict[str, list[str]] = dict(validation_errors or {})
        self.retry_after = retry_after
        self.event_id = event_id
        self.response = response


class BadRequest(PeopleEventsError):
    """400: the request was invalid; ``validation_errors`` maps input paths to problems."""


class Unauthorized(PeopleEventsError):
    """401: the credentials are missing or wrong."""


class Forbidden(PeopleEventsError):
    """403: the credentials lack a scope that Send Event needs."""


class NotFound(PeopleEventsError):
    """404: the person or the event definition does not exist in this account."""


class RateLimited(PeopleEventsError):
    """429: over the account's rate limit, still after the last retry; see ``retry_after``."""


class ServerError(PeopleEventsError):
    """Any 5xx, still after the last retry; the event may or may not be stored (resend with its event_id)."""


class TransportError(PeopleEventsError):
    """No usable response: connection failure, timeout, dropped connection, or the deadline ran out."""


_STATUS_CLASSES: dict[int, type[PeopleEventsError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    429: RateLimited,
}


def _class_for(status: int) -> type[PeopleEventsError]:
    if status >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status, PeopleEventsError)


def _service_exception(content: bytes) -> Mapping[str, Any]:
    """Infobip's ``requestError.serviceException``, or {} for any body that is not that envelope."""
    try:
        body = json.loads(content)
        details = body["requestError"]["serviceException"]
    except (ValueError, TypeError, KeyError, RecursionError):
        return {}
    return details if isinstance(details, Mapping) else {}


def _validation_errors(raw: object) -> dict[str, list[str]]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(path): [str(p) for p in problems] for path, problems in raw.items() if isinstance(problems, list)}


def error_from_response(response: httpx.Response, *, event_id: str | None = None) -> PeopleEventsError:
    """The typed error for a non-201 response, read from the raw bytes so that no body can break it."""
    status = response.status_code
    details = _service_exception(response.content)
    message_id = details.get("messageId")
    text = details.get("text")
    message_id = message_id if isinstance(message_id, str) else None
    text = text if isinstance(text, str) else None
    summary = f"HTTP {status}"
    if message_id or text:
        summary += f" {message_id or ''}: {text or ''}".rstrip(": ")
    elif response.content:
        summary += f" with a non-Infobip body ({response.headers.get('content-type', 'no content type')})"
    else:
        summary += " with an empty body"
    return _class_for(status)(
        summary,
        status=status,
        message_id=message_id,
        text=text,
        validation_errors=_validation_errors(details.get("validationErrors")),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        event_id=event_id,
        response=response,
    )
