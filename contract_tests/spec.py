"""openapi.yaml as the contract suite reads it: every expectation of the suite (statuses, identifier types, lengths,
patterns, the rate limit, the version, the request fields, the seed example) comes from here, never from a hand-kept
copy, so that a change of the spec reaches the tests by itself.

Validation uses jsonschema against the spec itself (OpenAPI 3.1 schemas are JSON Schema 2020-12), with every
``$ref`` resolved through a `referencing` registry, so nothing here restates the spec.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any, Final
from urllib.parse import quote

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.support.spec import ROOT, SPEC_PATH, load_spec, send_event_operation, send_event_path
from tests.support.spec import documented_statuses as shared_documented_statuses

__all__ = [
    "REPO_ROOT",
    "SEND_EVENT_LABEL",
    "SEND_EVENT_PATH",
    "SPEC_PATH",
    "documented_statuses",
    "echo_event_id",
    "error_detail_fields",
    "error_envelope_errors",
    "event_id_pattern",
    "event_path",
    "identifier_types",
    "info_version",
    "load_spec",
    "max_length",
    "query_parameter_errors",
    "request_body_errors",
    "request_fields",
    "resolve",
    "response_errors",
    "same_event",
    "seed_properties",
    "seed_request_example",
    "seed_response_example",
    "send_event_operation",
    "throttling_limit",
]

REPO_ROOT: Final = ROOT
SEND_EVENT_PATH: Final = send_event_path()
SEND_EVENT_LABEL: Final = f"POST {SEND_EVENT_PATH}"
_SPEC_URI: Final = "urn:people-events:openapi.yaml"
_OPERATION_POINTER: Final = "/paths/" + SEND_EVENT_PATH.replace("~", "~0").replace("/", "~1") + "/post"
_JSON_MEDIA_TYPE: Final = re.compile(r"^application/json\s*(;|$)", re.IGNORECASE)
#: The name of the request and response examples that reproduce the seed's samples.
SEED_EXAMPLE: Final = "seed"


def resolve(node: Any) -> Any:
    """`node` of openapi.yaml with every local ``$ref`` inlined (a fresh copy), e.g. for reading a schema's fields."""
    spec = load_spec()
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve(target)
        return {key: resolve(value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(value) for value in node]
    return node


def identifier_types() -> tuple[str, ...]:
    """The identifierType enum, in the spec's order."""
    parameter = next(p for p in send_event_operation()["parameters"] if p["name"] == "identifierType")
    return tuple(resolve(parameter["schema"])["enum"])


def max_length(parameter: str) -> int:
    """The maxLength of a path parameter (personId, definitionId)."""
    found = next(p for p in send_event_operation()["parameters"] if p["name"] == parameter)
    length: int = resolve(found["schema"])["maxLength"]
    return length


def documented_statuses() -> tuple[int, ...]:
    """The statuses the operation documents, ascending."""
    return tuple(shared_documented_statuses())


def throttling_limit() -> int:
    """The account's documented limit of requests per second (the operation's x-throttling-info)."""
    limit: int = send_event_operation()["x-throttling-info"][0]["numberOfRequests"]
    return limit


def info_version() -> str:
    """The spec's info.version: the version of the API contract (and of the generated client)."""
    return str(load_spec()["info"]["version"])


def _request_schema() -> dict[str, Any]:
    schema: dict[str, Any] = resolve(send_event_operation()["requestBody"]["content"]["application/json"]["schema"])
    return schema


def request_fields() -> tuple[str, ...]:
    """The top-level fields of the request body (EventRequest), in the spec's order."""
    return tuple(_request_schema().get("properties", {}))


def event_id_pattern() -> re.Pattern[str]:
    """The request's eventId pattern."""
    return re.compile(_request_schema()["properties"]["eventId"]["pattern"])


def error_detail_fields() -> tuple[str, ...]:
    """The required fields of the error envelope's ``serviceException`` (messageId, text)."""
    details = resolve(load_spec()["components"]["schemas"]["ApiException"])
    service_exception = details["properties"]["requestError"]["properties"]["serviceException"]
    return tuple(service_exception["required"])


def seed_request_example() -> dict[str, Any]:
    """The request example named `seed` (the seed's request sample)."""
    media = send_event_operation()["requestBody"]["content"]["application/json"]
    example: dict[str, Any] = media["examples"][SEED_EXAMPLE]["value"]
    return example


def seed_response_example() -> dict[str, Any]:
    """The 201 example named `seed` (the seed's response sample)."""
    media = send_event_operation()["responses"]["201"]["content"]["application/json"]
    example: dict[str, Any] = media["examples"][SEED_EXAMPLE]["value"]
    return example


def seed_properties() -> dict[str, Any]:
    """The properties of the seed request example: known-good properties for the seed's definition."""
    properties: dict[str, Any] = seed_request_example()["properties"]
    return properties


def same_event(expected: Mapping[str, Any], parsed: Mapping[str, Any]) -> bool:
    """Whether a parsed event (``to_dict()``) records `expected` (a 201 body): date-times compare as instants to the
    second, since parsing normalises their form (``Z``, fractions beyond microseconds)."""

    def normal(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(microsecond=0)
            except ValueError:
                return value
        return value

    return {k: normal(v) for k, v in expected.items()} == {k: normal(v) for k, v in parsed.items() if k in expected}


def echo_event_id(status: int, body: Any, request: Any) -> Any:
    """`body` as a server answers `request` (an httpx request): a 201 records the eventId the request sent."""
    try:
        sent = json.loads(request.content) if request.content else {}
    except ValueError:
        return body
    if status != 201 or not isinstance(body, dict) or not isinstance(sent, dict) or "eventId" not in sent:
        return body
    return {**body, "eventId": sent["eventId"]}


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
