# copied from codegen/overlay/exceptions.py by `make regenerate`; edit there, never here.
"""Typed errors of the People Events client.

A ``send`` returns the recorded event, raises ``ValueError`` before any I/O for invalid input, or raises one of
these (``event_id`` is always set)::

    PeopleEventsError          any other status (e.g. 409, 413, 415, 499)
     +-- BadRequest            400: invalid input; see ``validation_errors``
     +-- Unauthorized          401: missing or wrong credentials
     +-- Forbidden             403: the credentials lack a needed scope
     +-- NotFound              404: unknown person or event definition
     +-- RateLimited           429: over the account's limit, after every retry
     +-- ServerError           any 5xx, after every retry
     +-- UnexpectedResponse    a 201 that is not the event sent: malformed, or another eventId
     +-- TransportError        no response: connection failure, timeout, dropped connection
     +-- DeadlineExceeded      the send's total deadline ran out before a usable response
     +-- ClientClosed          ``send`` after ``close()``, or in a forked child on a transport of the caller's

``status`` is set only when a response arrived. ``may_be_stored`` says whether the event may have been recorded
(a 5xx or a lost response on some attempt): resend it with the same ``event_id`` and the server records it once.
Messages carry the status and Infobip's messageId and text, never credentials; errors pickle without the response
(whose request holds the Authorization header).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ._retry_after import parse_retry_after
from .models import ApiException
from .types import Unset

__all__ = (
    "BadRequest",
    "ClientClosed",
    "DeadlineExceeded",
    "Forbidden",
    "NotFound",
    "PeopleEventsError",
    "RateLimited",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponse",
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
        retry_after_header: str | None = None,
        event_id: str | None = None,
        may_be_stored: bool = False,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status of the last response; None when no response arrived."""
        self.message_id = message_id
        self.text = text
        self.validation_errors: dict[str, list[str]] = dict(validation_errors or {})
        self.retry_after = retry_after
        """Seconds the server asked to wait, as the client honours it (capped); None when absent or unusable."""
        self.retry_after_header = retry_after_header
        """The raw Retry-After header of the last response, if any."""
        self.event_id = event_id
        self.may_be_stored = may_be_stored
        """True when some attempt may have recorded the event (a 5xx, a lost response, an unexpected 201)."""
        self.response = response
        """The last response (not pickled: its request carries the credentials)."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions travel by pickle (multiprocessing, Celery); the response's request holds the Authorization
        # header, so it stays behind.
        state = {name: value for name, value in self.__dict__.items() if name != "response"}
        return (type(self), self.args, state)


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
    """Any 5xx, still after the last retry; the event may be stored (resend it with its event_id)."""


class UnexpectedResponse(PeopleEventsError):
    """A 201 whose body is not the event that was sent: not an event, or an event with another eventId."""


class TransportError(PeopleEventsError):
    """No usable response: connection failure, timeout or dropped connection, still after the last retry."""


class DeadlineExceeded(PeopleEventsError):
    """The send's ``deadline`` ran out (waiting for the rate limit, between retries, or during an attempt)."""


class ClientClosed(PeopleEventsError):
    """Nothing was sent: ``send`` after ``close()``/``aclose()``, or in a forked child on a facade whose transport or
    mounts the caller gave (their connections belong to the parent). Create a new facade."""


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


def _service_exception(parsed: object) -> tuple[str | None, str | None, dict[str, list[str]]]:
    """messageId, text and validationErrors of a parsed ``ApiException``, keeping only well-typed values (the
    generated models do not check types)."""
    if not isinstance(parsed, ApiException):
        return None, None, {}
    details = parsed.request_error.service_exception
    message_id = details.message_id if isinstance(details.message_id, str) else None
    text = details.text if isinstance(details.text, str) else None
    raw = {} if isinstance(details.validation_errors, Unset) else details.validation_errors.additional_properties
    errors = {
        str(path): [str(problem) for problem in problems]
        for path, problems in raw.items()
        if isinstance(problems, list)
    }
    return message_id, text, errors


def parse_error_body(response: httpx.Response) -> ApiException | None:
    """Infobip's error envelope as the generated model, or None for any body that is not one (an HTML page, an
    empty body, other JSON)."""
    try:
        return ApiException.from_dict(response.json())
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None


def error_from_response(
    response: httpx.Response,
    *,
    parsed: object = None,
    event_id: str | None = None,
    may_be_stored: bool | None = None,
    max_retry_after: float | None = None,
) -> PeopleEventsError:
    """The typed error for a non-201 response. ``parsed`` is the generated parser's result, if the caller has it;
    otherwise the body is parsed here. No body can make this raise."""
    status = response.status_code
    message_id, text, validation_errors = _service_exception(
        parsed if parsed is not None else parse_error_body(response)
    )
    summary = f"HTTP {status}"
    if message_id or text:
        summary += f" {message_id or ''}: {text or ''}".rstrip(": ")
    elif response.content:
        summary += f" with a non-Infobip body ({response.headers.get('content-type', 'no content type')})"
    else:
        summary += " with an empty body"
    header = response.headers.get("retry-after")
    retry_after = parse_retry_after(header)
    if retry_after is not None and max_retry_after is not None:
        retry_after = min(retry_after, max_retry_after)
    return _class_for(status)(
        summary,
        status=status,
        message_id=message_id,
        text=text,
        validation_errors=validation_errors,
        retry_after=retry_after,
        retry_after_header=header,
        event_id=event_id,
        may_be_stored=status >= 500 if may_be_stored is None else may_be_stored,
        response=response,
    )
