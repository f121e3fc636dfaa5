# copied from codegen/overlay/_safety.py by `make regenerate`; edit there, never here.
"""Checks that run before any I/O: ids that would re-target the request, and insecure base URLs."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping

import httpx

from ._constants import DEFINITION_ID_MAX_LENGTH, EVENT_ID_PATTERN, PERSON_ID_MAX_LENGTH

_EVENT_ID = re.compile(EVENT_ID_PATTERN)


def check_path_id(name: str, value: object, max_length: int) -> str:
    """The id as sent, or ValueError. ``.`` and ``..`` would be dropped by httpx as dot-segments and an
    empty id gives ``//``: each re-targets the request to another endpoint."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}")
    if value in {"", ".", ".."}:
        raise ValueError(f"{name} must not be empty, '.' or '..'")
    if len(value) > max_length:
        raise ValueError(f"{name} is {len(value)} characters long; the maximum is {max_length}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} is not valid Unicode text (it holds a lone surrogate)") from None
    return value


def check_ids(person_id: object, definition_id: object) -> tuple[str, str]:
    return (
        check_path_id("person_id", person_id, PERSON_ID_MAX_LENGTH),
        check_path_id("definition_id", definition_id, DEFINITION_ID_MAX_LENGTH),
    )


def check_event_id(event_id: object) -> str:
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise ValueError("event_id must be 1-36 letters, digits, '_' or '-'")
    return event_id


def check_credential(header_value: str) -> str:
    """The Authorization header value, or ValueError (never showing it) when it cannot travel as one header.

    A CR or LF would end the header early (an injected header, or a request that h11 refuses while the
    error text quotes the secret); other control characters and non-ASCII text are refused too.
    """
    if not (header_value.isascii() and header_value.isprintable()):
        raise ValueError(
            "the credential must be printable ASCII: no CR, LF, NUL or other control characters, no non-ASCII text"
        )
    return header_value


def check_properties(properties: object) -> None:
    """ValueError unless ``properties`` is a mapping that encodes as strict JSON in UTF-8 (no NaN or
    Infinity, no lone surrogate, only JSON types), so that a bad value fails before any I/O."""
    if not isinstance(properties, Mapping):
        raise ValueError(f"properties must be a mapping, not {type(properties).__name__}")
    try:
        json.dumps(dict(properties), allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as err:
        reason = "a lone surrogate" if isinstance(err, UnicodeEncodeError) else str(err)
        raise ValueError(f"properties are not valid JSON: {reason}") from None


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    """The base URL, or ValueError when it would send credentials in clear text to another host."""
    url = httpx.URL(base_url)
    if url.scheme not in {"https", "http"} or not url.host:
        raise ValueError("base_url must be an absolute http(s) URL")
    if url.userinfo:
        raise ValueError("base_url must not carry credentials (user:password@); give api_key or auth instead")
    if url.scheme == "http" and not allow_insecure_http and not is_loopback(url.host):
        raise ValueError(
            "base_url must use https (credentials would travel in clear text); "
            "http is allowed only on loopback, or with allow_insecure_http=True"
        )
    return base_url.rstrip("/")
