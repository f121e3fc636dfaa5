"""Event definitions: Infobip's create-definition documents, compiled into validators of `properties`.

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

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from people_events_mock.errors import ValidationErrors

__all__ = ["DefinitionError", "EventDefinition", "FieldSpec", "FieldType", "compile_definition"]

_DATETIME: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})")


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
        # Paths are built only for errors: this runs for every event of a load test.
        for name, value in properties.items():
            spec = self.fields.get(name)
            if spec is None:
                errors[f"{prefix}.{name}"] = ["is not a field of the event definition"]
            elif value is None:
                continue
            elif spec.item_fields is None:
                message = _SCALAR_CHECKS[spec.type](value)
                if message:
                    errors[f"{prefix}.{name}"] = [message]
            else:
                _validate_list(value, spec.item_fields, f"{prefix}.{name}", errors)


def _validate_list(value: Any, item_fields: Mapping[str, FieldType], path: str, errors: ValidationErrors) -> None:
    if not isinstance(value, list):
        errors[path] = ["must be a list of objects"]
        return
    for index, item in enumerate(value):
        if isinstance(item, list):
            errors[f"{path}[{index}]"] = ["must be an object: a List cannot hold a List"]
        elif not isinstance(item, dict):
            errors[f"{path}[{index}]"] = ["must be an object"]
        else:
            for name, item_value in item.items():
                field_type = item_fields.get(name)
                if field_type is None:
                    errors[f"{path}[{index}].{name}"] = ["is not a field of the list's items"]
                elif item_value is not None:
                    message = _SCALAR_CHECKS[field_type](item_value)
                    if message:
                        errors[f"{path}[{index}].{name}"] = [message]


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
