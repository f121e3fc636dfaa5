# copied from codegen/overlay/delivery/validation.py by `make regenerate`; edit there, never here.
"""Local validation of one event: the same checks ``send`` runs before any I/O, every problem at once.

The client's public ``validate_event`` stops at the first problem; a dry run reports all of them, field by field,
so this runs the client's own checks (``_safety``) one field at a time. A test holds the two to the same verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._constants import DEFINITION_ID_MAX_LENGTH, PERSON_ID_MAX_LENGTH
from .._safety import check_event_id, check_path_id, check_properties, encode_body
from ..models import IdentifierType

IDENTIFIER_TYPES = tuple(member.value for member in IdentifierType)


def event_problems(
    *,
    person_id: object,
    identifier_type: object,
    definition_id: object,
    event_id: object = None,
    properties: object = None,
) -> dict[str, list[str]]:
    """Problems keyed by field name (``personId``, ``identifierType``, ...), each a phrase that follows the name
    ("must not be empty"); empty when ``send`` would accept the event: ids present and not too long, a known
    identifier type, the eventId pattern, properties as strict JSON."""
    checks: dict[str, Callable[[], object]] = {
        "personId": lambda: check_path_id("personId", person_id, PERSON_ID_MAX_LENGTH),
        "identifierType": lambda: _check_identifier_type(identifier_type),
        "definitionId": lambda: check_path_id("definitionId", definition_id, DEFINITION_ID_MAX_LENGTH),
    }
    if event_id is not None:
        checks["eventId"] = lambda: check_event_id(event_id)
    if properties is not None:
        checks["properties"] = lambda: encode_body(check_properties(properties))
    problems: dict[str, list[str]] = {}
    for name, check in checks.items():
        try:
            check()
        except ValueError as err:
            problems[name] = [_phrase(str(err))]
    return problems


def _phrase(message: str) -> str:
    """The message without the field name it starts with (the key names the field): "must not be empty"."""
    for prefix in ("personId ", "definitionId ", "identifierType ", "event_id ", "properties "):
        if message.startswith(prefix):
            return message.removeprefix(prefix)
    return message


def _check_identifier_type(value: Any) -> None:
    if value not in IDENTIFIER_TYPES:
        raise ValueError(f"must be one of {', '.join(IDENTIFIER_TYPES)}, not {value!r}")
