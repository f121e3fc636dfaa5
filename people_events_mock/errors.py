"""Infobip's error envelope, and the one exception handler that renders every error in it.

Every error the mock answers, its own (`ApiError`) and the framework's (404 for an unknown path,
405 for a wrong method, 500 for a bug), is JSON of the form::

    {"requestError": {"serviceException": {"messageId": "...", "text": "...", "validationErrors": {...}}}}

`validationErrors` is present only on 400s, keyed by the path of the offending input.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus

from starlette import status
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "MESSAGE_IDS",
    "ApiError",
    "ValidationErrors",
    "envelope",
    "error_response",
    "handle_api_error",
    "handle_http_exception",
    "handle_server_error",
]

logger = logging.getLogger("people_events_mock")

#: Validation errors keyed by input path, e.g. ``properties.itemsInCart[1].quantity``.
ValidationErrors = dict[str, list[str]]

#: messageId for each status the mock answers with.
MESSAGE_IDS: Mapping[int, str] = {
    status.HTTP_400_BAD_REQUEST: "BAD_REQUEST",
    status.HTTP_401_UNAUTHORIZED: "UNAUTHORIZED",
    status.HTTP_403_FORBIDDEN: "FORBIDDEN",
    status.HTTP_404_NOT_FOUND: "NOT_FOUND",
    status.HTTP_405_METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
    status.HTTP_409_CONFLICT: "CONFLICT",
    status.HTTP_413_CONTENT_TOO_LARGE: "PAYLOAD_TOO_LARGE",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
    status.HTTP_429_TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
    status.HTTP_500_INTERNAL_SERVER_ERROR: "GENERAL_ERROR",
}

_DEFAULT_TEXTS: Mapping[int, str] = {
    status.HTTP_404_NOT_FOUND: "Not found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "Method not allowed",
    status.HTTP_500_INTERNAL_SERVER_ERROR: "Something went wrong. Please contact support.",
}


class ApiError(Exception):
    """An error answer of the mock: status, messageId, text and optional validationErrors and headers."""

    def __init__(
        self,
        status_code: int,
        text: str,
        *,
        validation_errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        message_id: str | None = None,
    ) -> None:
        super().__init__(text)
        self.status_code = status_code
        self.text = text
        self.message_id = message_id or MESSAGE_IDS.get(status_code) or _status_name(status_code)
        self.validation_errors: ValidationErrors | None = (
            {path: list(messages) for path, messages in validation_errors.items()} if validation_errors else None
        )
        self.headers = dict(headers or {})

    def to_response(self) -> Response:
        """The error as a JSON response in Infobip's envelope."""
        return error_response(
            self.status_code,
            self.text,
            validation_errors=self.validation_errors,
            headers=self.headers,
            message_id=self.message_id,
        )


def envelope(message_id: str, text: str, validation_errors: ValidationErrors | None = None) -> dict[str, object]:
    """Infobip's legacy error envelope."""
    details: dict[str, object] = {"messageId": message_id, "text": text}
    if validation_errors:
        details["validationErrors"] = validation_errors
    return {"requestError": {"serviceException": details}}


def error_response(
    status_code: int,
    text: str | None = None,
    *,
    validation_errors: ValidationErrors | None = None,
    headers: Mapping[str, str] | None = None,
    message_id: str | None = None,
) -> Response:
    """A JSON error response in Infobip's envelope."""
    message_id = message_id or MESSAGE_IDS.get(status_code) or _status_name(status_code)
    text = text or _DEFAULT_TEXTS.get(status_code) or _status_phrase(status_code)
    return JSONResponse(envelope(message_id, text, validation_errors), status_code=status_code, headers=headers)


async def handle_api_error(request: Request, exc: Exception) -> Response:
    """Exception handler for `ApiError`."""
    assert isinstance(exc, ApiError)
    return exc.to_response()


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Exception handler for Starlette's own HTTPException (unknown path, wrong method)."""
    assert isinstance(exc, HTTPException)
    text = _DEFAULT_TEXTS.get(exc.status_code) or _status_phrase(exc.status_code)
    return error_response(exc.status_code, text, headers=exc.headers)


async def handle_server_error(request: Request, exc: Exception) -> Response:
    """Handler for anything unhandled: a JSON 500 (ServerErrorMiddleware still re-raises for the server's log)."""
    return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR)


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
