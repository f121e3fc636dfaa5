"""Infobip's error envelope, and the one renderer every error of the mock goes through.

Every error the mock answers, its own (`ApiError`), the framework's (404 for an unknown path, 405 for a wrong
method, 500 for a bug) and the HTTP server's (400 for an unparseable request, 408 for a stalled body, 505), is
JSON of the form::

    {"requestError": {"serviceException": {"messageId": "...", "text": "...", "validationErrors": {...}}}}

For a status openapi.yaml documents, the messageId (and the default text) is its example's; other statuses
use `MESSAGE_IDS` below. `validationErrors` is present only on 400s, keyed by the path of the offending
input, and capped: at most MAX_VALIDATION_ERRORS entries (the rest counted under ``_omitted``), each path and
message at most MAX_VALIDATION_TEXT characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus

import orjson
from starlette import status
from starlette.responses import Response

from people_events_mock.constants import MAX_VALIDATION_ERRORS, MAX_VALIDATION_TEXT, OMITTED_ERRORS_KEY
from people_events_mock.spec import SpecFacts

__all__ = [
    "MESSAGE_IDS",
    "ApiError",
    "ValidationErrors",
    "capped",
    "envelope",
    "error_body",
    "error_response",
    "message_id_for",
]

#: Validation errors keyed by input path, e.g. ``properties.itemsInCart[1].quantity``.
ValidationErrors = dict[str, list[str]]

#: messageId of each status the mock may answer that the spec does not document (and the same for those it
#: does, for callers without the spec at hand).
MESSAGE_IDS: Mapping[int, str] = {
    status.HTTP_400_BAD_REQUEST: "BAD_REQUEST",
    status.HTTP_401_UNAUTHORIZED: "UNAUTHORIZED",
    status.HTTP_403_FORBIDDEN: "FORBIDDEN",
    status.HTTP_404_NOT_FOUND: "NOT_FOUND",
    status.HTTP_405_METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
    status.HTTP_408_REQUEST_TIMEOUT: "REQUEST_TIMEOUT",
    status.HTTP_409_CONFLICT: "CONFLICT",
    status.HTTP_413_CONTENT_TOO_LARGE: "PAYLOAD_TOO_LARGE",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
    status.HTTP_429_TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
    status.HTTP_500_INTERNAL_SERVER_ERROR: "GENERAL_ERROR",
    status.HTTP_505_HTTP_VERSION_NOT_SUPPORTED: "HTTP_VERSION_NOT_SUPPORTED",
}

_DEFAULT_TEXTS: Mapping[int, str] = {
    status.HTTP_404_NOT_FOUND: "Not found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "Method not allowed",
    status.HTTP_500_INTERNAL_SERVER_ERROR: "Something went wrong. Please contact support.",
}


class ApiError(Exception):
    """An error answer of the mock: status, text, and optional validationErrors, headers and messageId."""

    def __init__(
        self,
        status_code: int,
        text: str,
        *,
        validation_errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        message_id: str | None = None,
        close: bool = False,
    ) -> None:
        super().__init__(text)
        self.status_code = status_code
        self.text = text
        self.message_id = message_id
        self.validation_errors: ValidationErrors | None = (
            {path: list(messages) for path, messages in validation_errors.items()} if validation_errors else None
        )
        self.headers = dict(headers or {})
        if close:  # the request body was not read: the connection cannot carry another request
            self.headers["Connection"] = "close"

    def body(self, spec: SpecFacts | None) -> bytes:
        """The error's JSON body."""
        return error_body(
            self.status_code, self.text, validation_errors=self.validation_errors, message_id=self.message_id, spec=spec
        )

    def to_response(self, spec: SpecFacts | None = None) -> Response:
        """The error as a JSON response in Infobip's envelope."""
        return Response(
            self.body(spec), status_code=self.status_code, headers=self.headers, media_type="application/json"
        )


def message_id_for(status_code: int, spec: SpecFacts | None = None) -> str:
    """The messageId of a status: the spec's example's, else MESSAGE_IDS's, else the status's name."""
    return (spec and spec.message_id(status_code)) or MESSAGE_IDS.get(status_code) or _status_name(status_code)


def _default_text(status_code: int, spec: SpecFacts | None) -> str:
    documented = spec.statuses.get(status_code) if spec else None
    return (documented and documented.text) or _DEFAULT_TEXTS.get(status_code) or _status_phrase(status_code)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_VALIDATION_TEXT else text[: MAX_VALIDATION_TEXT - 3] + "..."


def capped(errors: Mapping[str, Sequence[str]]) -> ValidationErrors:
    """At most MAX_VALIDATION_ERRORS entries, paths and messages clipped, and a count of the rest."""
    kept: ValidationErrors = {}
    for path, messages in errors.items():
        if len(kept) == MAX_VALIDATION_ERRORS:
            break
        kept.setdefault(_clip(path), []).extend(_clip(message) for message in messages[:5])
    omitted = len(errors) - len(kept)
    if omitted > 0:
        kept[OMITTED_ERRORS_KEY] = [f"{omitted} more validation errors omitted"]
    return kept


def envelope(
    message_id: str, text: str, validation_errors: Mapping[str, Sequence[str]] | None = None
) -> dict[str, object]:
    """Infobip's legacy error envelope (validationErrors capped)."""
    details: dict[str, object] = {"messageId": message_id, "text": text}
    if validation_errors:
        details["validationErrors"] = capped(validation_errors)
    return {"requestError": {"serviceException": details}}


def error_body(
    status_code: int,
    text: str | None = None,
    *,
    validation_errors: Mapping[str, Sequence[str]] | None = None,
    message_id: str | None = None,
    spec: SpecFacts | None = None,
) -> bytes:
    """The JSON body of an error response in Infobip's envelope."""
    resolved = message_id or message_id_for(status_code, spec)
    return orjson.dumps(envelope(resolved, text or _default_text(status_code, spec), validation_errors))


def error_response(
    status_code: int,
    text: str | None = None,
    *,
    validation_errors: ValidationErrors | None = None,
    headers: Mapping[str, str] | None = None,
    message_id: str | None = None,
    spec: SpecFacts | None = None,
) -> Response:
    """A JSON error response in Infobip's envelope."""
    body = error_body(status_code, text, validation_errors=validation_errors, message_id=message_id, spec=spec)
    return Response(body, status_code=status_code, headers=headers, media_type="application/json")


def _status_phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def _status_name(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).name
    except ValueError:
        return "ERROR"
