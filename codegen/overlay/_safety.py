"""Checks that run before any I/O: ids that would re-target the request, event bodies that are not strict JSON,
insecure or ambiguous base URLs, and options that would disable a safeguard."""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Mapping
from typing import Any

import httpx

from ._constants import DEFINITION_ID_MAX_LENGTH, EVENT_ID_PATTERN, MAX_SECONDS, PERSON_ID_MAX_LENGTH
from .models import IdentifierType

_EVENT_ID = re.compile(EVENT_ID_PATTERN)
_IDENTIFIER_TYPES = frozenset(member.value for member in IdentifierType)
_JSON_SCALARS = (str, int, float, bool, type(None))


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


def check_identifier_type(identifier_type: object) -> IdentifierType:
    if isinstance(identifier_type, IdentifierType):
        return identifier_type
    if isinstance(identifier_type, str) and identifier_type in _IDENTIFIER_TYPES:
        return IdentifierType(identifier_type)
    known = ", ".join(member.value for member in IdentifierType)
    raise ValueError(f"identifier_type {identifier_type!r} is not one of {known}")


def check_flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, not {type(value).__name__}")
    return value


def _check_keys(value: object) -> None:
    """TypeError unless every object key is a string: ``{1: "a", "1": "b"}`` would encode as one JSON object with
    a repeated key."""
    if type(value) in _JSON_SCALARS:  # the common case, without the cost of an ABC check
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"keys must be strings, not {type(key).__name__} ({key!r})")
            _check_keys(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_keys(item)


def check_properties(properties: object) -> dict[str, Any]:
    """``properties`` as a dict with string keys at every level, or ValueError. (``encode_body`` refuses what strict
    JSON cannot carry.)"""
    if not isinstance(properties, Mapping):
        raise ValueError(f"properties must be a mapping, not {type(properties).__name__}")
    try:
        _check_keys(properties)
    except RecursionError:
        raise ValueError("properties are not valid JSON: nested too deeply") from None
    except TypeError as err:
        raise ValueError(f"properties are not valid JSON: {err}") from None
    return dict(properties)


def encode_body(body: object) -> bytes:
    """The request body as strict JSON in UTF-8, or ValueError (NaN or Infinity, a lone surrogate, a value of no
    JSON type, nesting too deep): one encoding both checks the body and produces the bytes sent."""
    try:
        return json.dumps(body, allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except RecursionError:
        raise ValueError("properties are not valid JSON: nested too deeply") from None
    except UnicodeEncodeError:
        raise ValueError("properties are not valid JSON: a lone surrogate") from None
    except (TypeError, ValueError) as err:
        raise ValueError(f"properties are not valid JSON: {err}") from None


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


def is_loopback(host: str) -> bool:
    """``localhost`` itself, or a loopback IP literal. (``*.localhost`` names are left out: a resolver may still send
    them to DNS.)"""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: object, *, allow_insecure_http: bool) -> str:
    """The base URL without a trailing slash, or ValueError when it is malformed, ambiguous (a query or fragment
    that request paths would silently replace), or would send credentials in clear text to another host."""
    if not isinstance(base_url, str):
        raise ValueError(f"base_url must be a string, not {type(base_url).__name__}")
    if not base_url.isprintable() or any(char.isspace() for char in base_url):
        raise ValueError("base_url must not contain spaces or control characters")
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as err:
        raise ValueError(f"base_url is not a valid URL: {err}") from None
    if url.scheme not in {"https", "http"} or not url.host:
        raise ValueError("base_url must be an absolute http(s) URL")
    if url.port is not None and not 0 < url.port < 65536:
        raise ValueError(f"base_url has port {url.port}, outside 1-65535")
    if url.userinfo:
        raise ValueError("base_url must not carry credentials (user:password@); give api_key or auth instead")
    if url.query or url.fragment or "?" in base_url or "#" in base_url:
        raise ValueError("base_url must not have a query or a fragment: request paths are appended to it")
    if url.scheme == "http" and not allow_insecure_http and not is_loopback(url.host):
        raise ValueError(
            "base_url must use https (credentials would travel in clear text); "
            "http is allowed only on loopback, or with allow_insecure_http=True"
        )
    return base_url.rstrip("/")


def check_seconds(name: str, value: object) -> float:
    """A number of seconds above 0 and at most a day, or ValueError (NaN would disable a bound, 0 or less would fail
    every request, and sockets and thread waits overflow on values far beyond a day)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, not {value!r}")
    if not 0 < value <= MAX_SECONDS:
        raise ValueError(f"{name} must be greater than 0 and at most {MAX_SECONDS:g} seconds, not {value!r}")
    return float(value)


def check_timeout(timeout: object) -> httpx.Timeout:
    """An ``httpx.Timeout`` whose every phase is bounded, from a number of seconds or a Timeout."""
    if isinstance(timeout, httpx.Timeout):
        for phase in ("connect", "read", "write", "pool"):
            check_seconds(f"timeout.{phase}", getattr(timeout, phase))
        return timeout
    return httpx.Timeout(check_seconds("timeout", timeout))


def check_count(name: str, value: object, *, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, not {value!r}")
    return value
