"""The facts the mock takes from openapi.yaml, loaded once at startup: the spec is the mock's source.

From the Send Event operation of the spec:

- the identifier types (the `identifierType` parameter's enum);
- the length limits of `personId` and `definitionId` (path parameters' minLength/maxLength);
- the query parameters that are required (`identifierType`), and `createPerson`'s default;
- whether a body is required, and the body fields `EventRequest` requires;
- `eventId`'s pattern and length limits;
- the body size limit (the request body's ``x-max-body-bytes``: OpenAPI has no keyword for it);
- the documented statuses, each with the messageId and text of its example, and its required headers.

Where it comes from: the package's own copy (a wheel carries openapi.yaml inside `people_events_mock`, see
pyproject.toml's ``force-include``), else the repository's openapi.yaml beside the package (an editable
install), or any file passed as `spec=` / ``--spec``. What the spec cannot express (the check order, the
rate limit, which identifier types createPerson may create, the JSON media types besides application/json)
stays in code: see constants.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

__all__ = ["SEND_EVENT_TEMPLATE", "SpecError", "SpecFacts", "default_spec", "load_spec", "spec_facts"]

#: The Send Event path template in the spec.
SEND_EVENT_TEMPLATE: Final = "/peopleevents/2/persons/{personId}/definitions/{definitionId}/events"
_SPEC_NAME: Final = "openapi.yaml"


class SpecError(ValueError):
    """An openapi.yaml that lacks a fact the mock needs, or cannot be read."""


@dataclass(frozen=True, slots=True)
class DocumentedStatus:
    """A response the spec documents: its example's messageId and text, and the headers it requires."""

    status: int
    message_id: str | None
    text: str | None
    required_headers: frozenset[str]


@dataclass(frozen=True, slots=True)
class SpecFacts:
    """What the mock reads from openapi.yaml (see the module docstring)."""

    identifier_types: tuple[str, ...]
    person_id_length: tuple[int, int]
    definition_id_length: tuple[int, int]
    required_query: frozenset[str]
    create_person_default: bool
    body_required: bool
    required_body_fields: tuple[str, ...]
    event_id_pattern: re.Pattern[str]
    event_id_length: tuple[int, int]
    max_body_bytes: int
    statuses: Mapping[int, DocumentedStatus]

    def message_id(self, status: int) -> str | None:
        """The messageId of a documented status's example, or None."""
        documented = self.statuses.get(status)
        return documented.message_id if documented else None


def _resolve(spec: Mapping[str, Any], node: Any) -> Any:
    """Follow local ``$ref``s (``#/components/...``) until a node that is not a reference."""
    seen: set[str] = set()
    while isinstance(node, Mapping) and "$ref" in node:
        reference = node["$ref"]
        if not isinstance(reference, str) or not reference.startswith("#/") or reference in seen:
            raise SpecError(f"unsupported $ref {reference!r}")
        seen.add(reference)
        node = spec
        for part in reference[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _length(schema: Mapping[str, Any], name: str) -> tuple[int, int]:
    try:
        return int(schema.get("minLength", 0)), int(schema["maxLength"])
    except (KeyError, TypeError, ValueError):
        raise SpecError(f"{name} needs an integer maxLength") from None


def _statuses(spec: Mapping[str, Any], responses: Mapping[str, Any]) -> dict[int, DocumentedStatus]:
    found: dict[int, DocumentedStatus] = {}
    for code, raw in responses.items():
        if not str(code).isdigit():
            continue  # "default" or "4XX": no single status
        response = _resolve(spec, raw)
        content = response.get("content", {}).get("application/json", {})
        example = content.get("example")
        details = example.get("requestError", {}).get("serviceException", {}) if isinstance(example, dict) else {}
        headers = response.get("headers", {})
        found[int(code)] = DocumentedStatus(
            status=int(code),
            message_id=details.get("messageId") if isinstance(details.get("messageId"), str) else None,
            text=details.get("text") if isinstance(details.get("text"), str) else None,
            required_headers=frozenset(
                name for name, header in headers.items() if _resolve(spec, header).get("required")
            ),
        )
    return found


def spec_facts(spec: Mapping[str, Any]) -> SpecFacts:
    """Extract the mock's facts from a parsed openapi.yaml. Raises `SpecError` when one is missing."""
    try:
        operation = spec["paths"][SEND_EVENT_TEMPLATE]["post"]
    except (KeyError, TypeError):
        raise SpecError(f"the spec has no POST {SEND_EVENT_TEMPLATE}") from None
    try:
        parameters = {
            (param["in"], param["name"]): param
            for param in (_resolve(spec, raw) for raw in operation.get("parameters", []))
        }
        identifier_schema = _resolve(spec, parameters["query", "identifierType"]["schema"])
        identifier_types = tuple(identifier_schema["enum"])
        person_schema = _resolve(spec, parameters["path", "personId"]["schema"])
        definition_schema = _resolve(spec, parameters["path", "definitionId"]["schema"])
        create_person = parameters.get(("query", "createPerson"), {})
        body = _resolve(spec, operation["requestBody"])
        body_schema = _resolve(spec, body["content"]["application/json"]["schema"])
        event_id_schema = _resolve(spec, body_schema["properties"]["eventId"])
        max_body_bytes = int(body["x-max-body-bytes"])
        pattern = re.compile(event_id_schema["pattern"])
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise SpecError(f"the Send Event operation lacks what the mock needs: {exc!r}") from None
    if not identifier_types or not all(isinstance(kind, str) for kind in identifier_types):
        raise SpecError("identifierType's enum must list strings")
    return SpecFacts(
        identifier_types=identifier_types,
        person_id_length=_length(person_schema, "personId"),
        definition_id_length=_length(definition_schema, "definitionId"),
        required_query=frozenset(
            name for (where, name), param in parameters.items() if where == "query" and param.get("required")
        ),
        create_person_default=bool(_resolve(spec, create_person.get("schema", {})).get("default", False)),
        body_required=bool(body.get("required", False)),
        required_body_fields=tuple(body_schema.get("required", ())),
        event_id_pattern=pattern,
        event_id_length=_length(event_id_schema, "eventId"),
        max_body_bytes=max_body_bytes,
        statuses=_statuses(spec, operation.get("responses", {})),
    )


def _packaged_spec() -> Path | None:
    """openapi.yaml inside the installed package (wheel), else beside the package (editable install)."""
    packaged = resources.files("people_events_mock").joinpath(_SPEC_NAME)
    if packaged.is_file():
        return Path(str(packaged))
    beside = Path(__file__).resolve().parent.parent / _SPEC_NAME
    return beside if beside.is_file() else None


def load_spec(path: str | os.PathLike[str] | None = None) -> SpecFacts:
    """Read openapi.yaml (`path`, or the packaged one) and extract its facts. Raises `SpecError`."""
    if path is None:
        return default_spec()
    return _load(Path(path))


def _load(path: Path) -> SpecFacts:
    try:
        text = path.read_text("utf-8")
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        raise SpecError(f"cannot read the spec {path}: {str(exc).splitlines()[0] if str(exc) else exc!r}") from None
    if not isinstance(document, dict):
        raise SpecError(f"the spec {path} is not a YAML mapping")
    return spec_facts(document)


@cache
def default_spec() -> SpecFacts:
    """The facts of the openapi.yaml this package was built or installed with (loaded once)."""
    path = _packaged_spec()
    if path is None:
        raise SpecError("openapi.yaml is neither packaged in people_events_mock nor beside it; pass spec=FILE")
    return _load(path)
