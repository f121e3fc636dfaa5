"""Request validation: strict JSON parsing, ids, query parameters, and event definitions -> validators.

An event definition in Infobip's create-definition shape (``{"definitionId", "title", "fields":
[{"name", "type", "schema"?}]}``) compiles into an `EventDefinition`, whose `validate` checks the
`properties` of an event against it. Field types follow Infobip's:

========  ================================================================================
String    a JSON string
Boolean   true or false
DateTime  an ISO 8601 string with a time zone, e.g. ``2023-11-17T15:47:50.4136517Z``
Numeric   a whole number (``3`` or ``3.0``)
Decimal   any number
List      a list of objects, each checked against the field's item fields (one level deep:
          an item field cannot be a List)
========  ================================================================================

Every field is optional, and ``null`` counts as absent. A property that the definition does not
name is rejected. Errors are keyed by path, e.g. ``properties.itemsInCart[1].quantity``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final
from urllib.parse import parse_qsl, unquote_to_bytes

from people_events_mock.constants import (
    DEFINITION_ID_MAX_LENGTH,
    EVENT_ID_REGEX,
    IDENTIFIER_TYPES,
    JSON_CHARSETS,
    JSON_MEDIA_TYPES,
    PERSON_ID_MAX_LENGTH,
)
from people_events_mock.errors import ValidationErrors

__all__ = [
    "DefinitionError",
    "EventDefinition",
    "FieldSpec",
    "FieldType",
    "InvalidJson",
    "SendEventQuery",
    "compile_definition",
    "decode_path_segment",
    "is_json_media_type",
    "parse_json",
    "parse_send_event_query",
    "validate_event_body",
    "validate_id",
    "validate_path_ids",
]

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")
# Strictly decoded UTF-8 holds no surrogates, so only a \uD800-\uDFFF escape can produce one.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_DATETIME: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})")
_JSON_SUFFIX_TYPE: Final = re.compile(r"application/[!#$%&'*+.^_`|~0-9a-z-]+\+json")


class FieldType(StrEnum):
    """Infobip's event field types."""

    STRING = "String"
    BOOLEAN = "Boolean"
    DATETIME = "DateTime"
    NUMERIC = "Numeric"
    DECIMAL = "Decimal"
    LIST = "List"


class DefinitionError(ValueError):
    """An event definition that cannot be compiled; `errors` are keyed by path inside the definition."""

    def __init__(self, errors: ValidationErrors) -> None:
        super().__init__("; ".join(f"{path}: {', '.join(messages)}" for path, messages in errors.items()))
        self.errors = errors


class InvalidJson(ValueError):
    """A request body that is not acceptable JSON (malformed, too deep, non-finite, duplicate keys...)."""


# --- JSON ---------------------------------------------------------------------------------------


def _reject_constant(token: str) -> Any:
    raise InvalidJson(f"{token} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJson(f"number {text[:20]}{'...' if len(text) > 20 else ''} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidJson(f"duplicate key {key!r}")
            seen.add(key)
    return result


def _check_unicode(value: Any) -> None:
    """Reject lone surrogates (`"\\ud800"`), which cannot be encoded back to UTF-8. Iterative, so any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                raise InvalidJson("string holds an unpaired UTF-16 surrogate")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_json(raw: bytes) -> Any:
    """Parse a UTF-8 JSON document strictly. Raises `InvalidJson` for anything Python's json would let through
    or choke on: invalid UTF-8, NaN/Infinity, overflowing floats, integers over 4,300 digits, deep nesting,
    duplicate keys, unpaired surrogates. A leading UTF-8 BOM is ignored (RFC 8259 allows that)."""
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(
            text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant, parse_float=_finite_float
        )
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InvalidJson("JSON is nested too deeply") from None
    except InvalidJson:
        raise
    except ValueError as exc:  # int() over sys.get_int_max_str_digits()
        raise InvalidJson(f"number out of range: {str(exc)[:80]}") from None
    if _SURROGATE_ESCAPE.search(text):
        _check_unicode(value)
    return value


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


# --- ids and query --------------------------------------------------------------------------------


def decode_path_segment(raw: str) -> str | None:
    """Percent-decode one raw path segment as UTF-8, or None when it is not valid UTF-8."""
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return None


def validate_id(value: str | None, max_length: int) -> list[str]:
    """Messages about a decoded path id (empty when valid)."""
    if value is None:
        return ["must be percent-encoded UTF-8"]
    if not value:
        return ["must not be empty"]
    if len(value) > max_length:
        return [f"must be at most {max_length} characters"]
    return []


@dataclass(frozen=True, slots=True)
class SendEventQuery:
    """The valid query of a Send Event request."""

    identifier_type: str
    create_person: bool


def parse_send_event_query(query_string: bytes, errors: ValidationErrors) -> SendEventQuery | None:
    """Parse `identifierType` and `createPerson`; add messages to `errors`. Unknown parameters are ignored."""
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        errors["query"] = ["must be percent-encoded UTF-8"]
        return None
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)

    identifier_type: str | None = None
    found = values.get("identifierType", [])
    if not found:
        errors["identifierType"] = ["is required"]
    elif len(found) > 1:
        errors["identifierType"] = ["must be given once"]
    elif found[0] in IDENTIFIER_TYPES:
        identifier_type = found[0]
    elif found[0].upper() in IDENTIFIER_TYPES:
        errors["identifierType"] = [f"must be upper case: {found[0].upper()}"]
    else:
        errors["identifierType"] = [f"must be one of {', '.join(IDENTIFIER_TYPES)}"]

    create_person = False
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


def validate_event_body(body: Any, errors: ValidationErrors) -> tuple[str | None, dict[str, Any] | None]:
    """Check the shape of a parsed Send Event body: returns (eventId, properties); adds messages to `errors`.

    Fields other than `eventId` and `properties` are ignored, as the spec does not forbid them.
    (An absent body is no body at all, and never reaches here.)
    """
    if not isinstance(body, dict):
        errors["body"] = ["must be a JSON object"]
        return None, None
    event_id = body.get("eventId")
    if event_id is not None and not (isinstance(event_id, str) and EVENT_ID_REGEX.fullmatch(event_id)):
        errors["eventId"] = ["must be 1-36 characters, each a letter, digit, '_' or '-'"]
        event_id = None
    properties = body.get("properties")
    if properties is not None and not isinstance(properties, dict):
        errors["properties"] = ["must be an object or null"]
        properties = None
    return event_id, properties


# --- definitions -----------------------------------------------------------------------------------

_Check = Callable[[Any], str | None]


def _check_string(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _check_boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be a boolean"


def _check_decimal(value: Any) -> str | None:
    return None if isinstance(value, int | float) and not isinstance(value, bool) else "must be a number"


def _check_numeric(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a whole number"
    if isinstance(value, float) and not value.is_integer():
        return "must be a whole number"
    return None


def _check_datetime(value: Any) -> str | None:
    message = "must be an ISO 8601 date-time with a time zone, e.g. 2023-11-17T15:47:50.413Z"
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        return message
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return message
    return None


_SCALAR_CHECKS: Final[Mapping[FieldType, _Check]] = {
    FieldType.STRING: _check_string,
    FieldType.BOOLEAN: _check_boolean,
    FieldType.DATETIME: _check_datetime,
    FieldType.NUMERIC: _check_numeric,
    FieldType.DECIMAL: _check_decimal,
}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a definition; `item_fields` is set for a List (of Object) field only."""

    name: str
    type: FieldType
    item_fields: Mapping[str, FieldType] | None = None


@dataclass(frozen=True, slots=True)
class EventDefinition:
    """A compiled event definition; `raw` keeps the create-definition document it came from."""

    definition_id: str
    fields: Mapping[str, FieldSpec]
    raw: Mapping[str, Any] = field(compare=False)

    def validate(self, properties: Mapping[str, Any], errors: ValidationErrors, *, prefix: str = "properties") -> None:
        """Add a message to `errors` for each property that does not match this definition."""
        for name, value in properties.items():
            path = f"{prefix}.{name}"
            spec = self.fields.get(name)
            if spec is None:
                errors[path] = ["is not a field of the event definition"]
            elif value is None:
                continue
            elif spec.item_fields is None:
                message = _SCALAR_CHECKS[spec.type](value)
                if message:
                    errors[path] = [message]
            else:
                _validate_list(value, spec.item_fields, path, errors)


def _validate_list(value: Any, item_fields: Mapping[str, FieldType], path: str, errors: ValidationErrors) -> None:
    if not isinstance(value, list):
        errors[path] = ["must be a list of objects"]
        return
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if isinstance(item, list):
            errors[item_path] = ["must be an object: a List cannot hold a List"]
        elif not isinstance(item, dict):
            errors[item_path] = ["must be an object"]
        else:
            for name, item_value in item.items():
                field_path = f"{item_path}.{name}"
                field_type = item_fields.get(name)
                if field_type is None:
                    errors[field_path] = ["is not a field of the list's items"]
                elif item_value is not None:
                    message = _SCALAR_CHECKS[field_type](item_value)
                    if message:
                        errors[field_path] = [message]


def compile_definition(raw: Mapping[str, Any]) -> EventDefinition:
    """Compile a definition already valid against the fixtures schema's `definition`.

    Checks what JSON Schema cannot: field names unique case-insensitively, at most one List field.
    """
    errors: ValidationErrors = {}
    fields: dict[str, FieldSpec] = {}
    seen: set[str] = set()
    list_fields = 0
    raw_fields: Sequence[Mapping[str, Any]] = raw.get("fields") or []
    for index, raw_field in enumerate(raw_fields):
        name = raw_field["name"]
        if name.lower() in seen:
            errors[f"fields[{index}].name"] = ["must be unique (case-insensitive)"]
            continue
        seen.add(name.lower())
        field_type = FieldType(raw_field["type"])
        item_fields: dict[str, FieldType] | None = None
        if field_type is FieldType.LIST:
            list_fields += 1
            item_fields = {}
            for item_index, item_field in enumerate(raw_field["schema"]["fields"]):
                item_name = item_field["name"]
                if item_name.lower() in {existing.lower() for existing in item_fields}:
                    errors[f"fields[{index}].schema.fields[{item_index}].name"] = ["must be unique (case-insensitive)"]
                    continue
                item_fields[item_name] = FieldType(item_field["type"])
        fields[name] = FieldSpec(name=name, type=field_type, item_fields=item_fields)
    if list_fields > 1:
        errors["fields"] = ["may hold at most one field of type List"]
    if errors:
        raise DefinitionError(errors)
    return EventDefinition(definition_id=raw["definitionId"], fields=fields, raw=raw)


def validate_path_ids(person_id: str | None, definition_id: str | None, errors: ValidationErrors) -> None:
    """Add messages about the decoded path ids to `errors`."""
    for name, value, max_length in (
        ("personId", person_id, PERSON_ID_MAX_LENGTH),
        ("definitionId", definition_id, DEFINITION_ID_MAX_LENGTH),
    ):
        messages = validate_id(value, max_length)
        if messages:
            errors[name] = messages
