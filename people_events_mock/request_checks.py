"""Checks of one Send Event request's parts against the spec's facts: path ids, query, media type, body shape.

Each check adds messages to a `ValidationErrors` dict (keyed by the input's name or path) rather than raising,
so that one 400 lists every problem. The limits and enums come from `SpecFacts` (openapi.yaml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, unquote_to_bytes

from people_events_mock.constants import JSON_CHARSETS, JSON_MEDIA_TYPES
from people_events_mock.errors import ValidationErrors
from people_events_mock.spec import SpecFacts

__all__ = [
    "SendEventQuery",
    "decode_path_segment",
    "is_json_media_type",
    "parse_send_event_query",
    "validate_event_body",
    "validate_id",
    "validate_path_ids",
]

_JSON_SUFFIX_TYPE: Final = re.compile(r"application/[!#$%&'*+.^_`|~0-9a-z-]+\+json")
# A `%` must start a two-hex-digit escape (RFC 3986 §2.1); unquote would keep `%zz` literally.
_BAD_ESCAPE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")


def is_json_media_type(content_type: str) -> bool:
    """Whether a Content-Type value names a JSON media type in UTF-8 (charset params allowed)."""
    media_type, _, params = content_type.partition(";")
    media_type = media_type.strip().lower()
    if media_type not in JSON_MEDIA_TYPES and not _JSON_SUFFIX_TYPE.fullmatch(media_type):
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in JSON_CHARSETS:
            return False
    return True


def decode_path_segment(raw: str) -> str | None:
    """Percent-decode one raw path segment as UTF-8; None when an escape is invalid or the bytes are not UTF-8.

    `raw` is the segment as sent, its bytes read as latin-1 (as `paths.raw_path` gives it)."""
    if "%" not in raw and raw.isascii():
        return raw
    if _BAD_ESCAPE.search(raw):
        return None
    try:
        return unquote_to_bytes(raw.encode("latin-1")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def validate_id(value: str | None, length: tuple[int, int]) -> list[str]:
    """Messages about a decoded path id (empty when valid); `length` is the spec's (minLength, maxLength)."""
    if value is None:
        return ["must be percent-encoded UTF-8 (each % followed by two hex digits)"]
    if not value:
        return ["must not be empty"]
    minimum, maximum = length
    if len(value) < minimum:
        return [f"must be at least {minimum} characters"]
    if len(value) > maximum:
        return [f"must be at most {maximum} characters"]
    return []


def validate_path_ids(
    person_id: str | None, definition_id: str | None, errors: ValidationErrors, spec: SpecFacts
) -> None:
    """Add messages about the decoded path ids to `errors`."""
    for name, value, length in (
        ("personId", person_id, spec.person_id_length),
        ("definitionId", definition_id, spec.definition_id_length),
    ):
        messages = validate_id(value, length)
        if messages:
            errors[name] = messages


@dataclass(frozen=True, slots=True)
class SendEventQuery:
    """The valid query of a Send Event request."""

    identifier_type: str
    create_person: bool


def parse_send_event_query(query_string: bytes, errors: ValidationErrors, spec: SpecFacts) -> SendEventQuery | None:
    """Parse `identifierType` and `createPerson`; add messages to `errors`. Unknown parameters are ignored."""
    text = query_string.decode("latin-1")
    if text.isascii() and "%" not in text and "+" not in text:
        # The usual query (``identifierType=EMAIL``) needs no decoding: parse_qsl's result without its cost.
        pairs = [(name, value) for name, _, value in (part.partition("=") for part in text.split("&") if part)]
    else:
        try:
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            errors["query"] = ["must be percent-encoded UTF-8"]
            return None
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    for name in sorted(spec.required_query - values.keys()):
        errors[name] = ["is required"]

    identifier_type: str | None = None
    found = values.get("identifierType", [])
    if len(found) > 1:
        errors["identifierType"] = ["must be given once"]
    elif not found:
        pass
    elif found[0] in spec.identifier_types:
        identifier_type = found[0]
    elif found[0].upper() in spec.identifier_types:
        errors["identifierType"] = [f"must be upper case: {found[0].upper()}"]
    else:
        errors["identifierType"] = [f"must be one of {', '.join(spec.identifier_types)}"]

    create_person = spec.create_person_default
    found = values.get("createPerson", [])
    if len(found) > 1:
        errors["createPerson"] = ["must be given once"]
    elif found and found[0] not in ("true", "false"):
        errors["createPerson"] = ["must be true or false"]
    elif found:
        create_person = found[0] == "true"

    if identifier_type is None or "createPerson" in errors:
        return None
    return SendEventQuery(identifier_type=identifier_type, create_person=create_person)


def validate_event_body(
    body: Any, errors: ValidationErrors, spec: SpecFacts
) -> tuple[str | None, dict[str, Any] | None]:
    """Check the shape of a parsed Send Event body: returns (eventId, properties); adds messages to `errors`.

    Fields other than `eventId` and `properties` are ignored, as the spec does not forbid them; the fields the
    spec's EventRequest requires must be there. (An absent body never reaches here.)
    """
    if not isinstance(body, dict):
        errors["body"] = ["must be a JSON object"]
        return None, None
    for name in spec.required_body_fields:
        if name not in body:
            errors[name] = ["is required"]
    event_id = body.get("eventId")
    minimum, maximum = spec.event_id_length
    if event_id is not None and not (
        isinstance(event_id, str) and minimum <= len(event_id) <= maximum and spec.event_id_pattern.search(event_id)
    ):
        errors["eventId"] = [f"must be {minimum}-{maximum} characters matching {spec.event_id_pattern.pattern}"]
        event_id = None
    properties = body.get("properties")
    if properties is not None and not isinstance(properties, dict):
        errors["properties"] = ["must be an object or null"]
        properties = None
    return event_id, properties
