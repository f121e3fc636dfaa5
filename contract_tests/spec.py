"""openapi.yaml as the contract suite reads it: the Send Event operation, and validators for what goes over the wire.

Validation uses jsonschema against the spec itself (OpenAPI 3.1 schemas are JSON Schema 2020-12), with every
``$ref`` resolved through a `referencing` registry, so nothing here restates the spec.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
SPEC_PATH: Final = REPO_ROOT / "openapi.yaml"
SEND_EVENT_PATH: Final = "/peopleevents/2/persons/{personId}/definitions/{definitionId}/events"
SEND_EVENT_LABEL: Final = f"POST {SEND_EVENT_PATH}"
_SPEC_URI: Final = "urn:people-events:openapi.yaml"
_OPERATION_POINTER: Final = "/paths/" + SEND_EVENT_PATH.replace("~", "~0").replace("/", "~1") + "/post"
_JSON_MEDIA_TYPE: Final = re.compile(r"^application/json\s*(;|$)", re.IGNORECASE)


@cache
def load_spec() -> dict[str, Any]:
    """openapi.yaml, parsed (cached: treat it as read-only)."""
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return spec


def send_event_operation() -> dict[str, Any]:
    """The Send Event operation object."""
    operation: dict[str, Any] = load_spec()["paths"][SEND_EVENT_PATH]["post"]
    return operation


def identifier_types() -> tuple[str, ...]:
    """The IdentifierType enum, in the spec's order."""
    return tuple(load_spec()["components"]["schemas"]["IdentifierType"]["enum"])


def max_length(parameter: str) -> int:
    """The maxLength of a path parameter (personId, definitionId)."""
    found = next(p for p in send_event_operation()["parameters"] if p["name"] == parameter)
    length: int = found["schema"]["maxLength"]
    return length


def documented_statuses() -> tuple[int, ...]:
    """The statuses the operation documents, ascending."""
    return tuple(sorted(int(status) for status in send_event_operation()["responses"]))


def event_path(person_id: str, definition_id: str) -> str:
    """The raw (percent-encoded) Send Event path for these ids, as a client must send it."""
    return SEND_EVENT_PATH.format(personId=quote(person_id, safe=""), definitionId=quote(definition_id, safe=""))


@cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
    return registry


def validator(pointer: str) -> jsonschema.Draft202012Validator:
    """A validator for the schema at JSON pointer `pointer` of openapi.yaml, with formats checked."""
    return jsonschema.Draft202012Validator(
        {"$ref": f"{_SPEC_URI}#{pointer}"},
        registry=_registry(),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def _errors(pointer: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator(pointer).iter_errors(instance)
    ]


def request_body_errors(body: Any) -> list[str]:
    """Why `body` (parsed JSON) is not a valid Send Event request body; empty when it is."""
    return _errors(f"{_OPERATION_POINTER}/requestBody/content/application~1json/schema", body)


def query_parameter_errors(name: str, value: Any) -> list[str]:
    """Why `value` is not valid for the query parameter `name`; empty when it is."""
    for index, parameter in enumerate(send_event_operation()["parameters"]):
        if parameter["in"] == "query" and parameter["name"] == name:
            return _errors(f"{_OPERATION_POINTER}/parameters/{index}/schema", value)
    return [f"{name}: not a documented query parameter"]


def response_errors(status: int, headers: Mapping[str, str], body: bytes) -> list[str]:
    """Why a response of `status` does not conform to the spec (media type, body schema, required headers)."""
    responses = send_event_operation()["responses"]
    if str(status) not in responses:
        return [f"{status} is not a documented status"]
    declared = responses[str(status)]
    lower = {name.lower(): value for name, value in headers.items()}
    problems: list[str] = []
    for name, header in declared.get("headers", {}).items():
        value = lower.get(name.lower())
        if value is None:
            if header.get("required", False):
                problems.append(f"header {name} is required")
            continue
        pointer = f"{_OPERATION_POINTER}/responses/{status}/headers/{name}/schema"
        parsed: Any = int(value) if value.isascii() and value.isdigit() else value
        problems.extend(f"header {name}: {error}" for error in _errors(pointer, parsed))
    if "application/json" in declared.get("content", {}):
        content_type = lower.get("content-type", "")
        if not _JSON_MEDIA_TYPE.match(content_type):
            return [*problems, f"Content-Type is {content_type or 'absent'}, not application/json"]
        try:
            parsed_body = json.loads(body)
        except ValueError as exc:
            return [*problems, f"body is not JSON: {exc}"]
        pointer = f"{_OPERATION_POINTER}/responses/{status}/content/application~1json/schema"
        problems.extend(f"body {error}" for error in _errors(pointer, parsed_body))
    return problems


def error_envelope_errors(body: Any) -> list[str]:
    """Why `body` (parsed JSON) is not Infobip's error envelope (the spec's ApiException); empty when it is."""
    return _errors("/components/schemas/ApiException", body)
