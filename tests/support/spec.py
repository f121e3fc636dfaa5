"""openapi.yaml, loaded once, and a conformance assertion for Send Event responses."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "openapi.yaml"
#: Send Event's operationId: the operation is found by it, so a change of its path template follows by itself.
SEND_EVENT_OPERATION_ID = "send-custom-event"


@cache
def load_spec() -> dict[str, Any]:
    """openapi.yaml as a dict (cached: do not mutate it)."""
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text("utf-8"))
    return spec


def send_event_path() -> str:
    """The path template of Send Event in openapi.yaml, e.g. ``/peopleevents/2/persons/{personId}/...``."""
    for path, item in load_spec()["paths"].items():
        if item.get("post", {}).get("operationId") == SEND_EVENT_OPERATION_ID:
            return str(path)
    raise LookupError(f"openapi.yaml has no POST operation {SEND_EVENT_OPERATION_ID!r}")


#: The Send Event path template, as openapi.yaml has it now.
SEND_EVENT_PATH = send_event_path()


def send_event_operation() -> dict[str, Any]:
    """The Send Event operation object of openapi.yaml."""
    operation: dict[str, Any] = load_spec()["paths"][send_event_path()]["post"]
    return operation


def documented_statuses() -> list[int]:
    """The response statuses openapi.yaml documents for Send Event, in ascending order."""
    return sorted(int(code) for code in send_event_operation()["responses"])


def assert_conforms(response: httpx.Response) -> None:
    """Assert that a Send Event response is one the spec documents: status, media type, body and headers."""
    spec = load_spec()
    documented = send_event_operation()["responses"].get(str(response.status_code))
    assert documented is not None, f"status {response.status_code} is not documented"
    assert response.headers["content-type"].split(";")[0] == "application/json"
    schema = {**documented["content"]["application/json"]["schema"], "components": spec["components"]}
    jsonschema.validate(
        response.json(), schema, cls=jsonschema.Draft202012Validator, format_checker=jsonschema.FormatChecker()
    )
    for name, header in documented.get("headers", {}).items():
        value = response.headers.get(name)
        if header.get("required"):
            assert value is not None, f"missing required header {name}"
        if value is not None and header["schema"].get("type") == "integer":
            assert value.isdigit()
            jsonschema.validate(int(value), header["schema"])
