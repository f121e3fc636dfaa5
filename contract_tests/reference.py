"""The two references openapi.yaml must agree with, as copied into ``contract_tests/reference/``: the seed (the
endpoint as documented to our users, a text page) and Infobip's published operation (an extract of its People
spec). Parsers only: what the spec must agree with is in sync.py."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any, Final

from .spec import REPO_ROOT

__all__ = [
    "OFFICIAL_PATH",
    "REFERENCE_DIR",
    "SEED_PATH",
    "official_identifier_types",
    "official_operation",
    "official_spec",
    "seed_identifier_types",
    "seed_sample",
    "seed_statuses",
    "seed_text",
]

REFERENCE_DIR: Final = REPO_ROOT / "contract_tests" / "reference"
SEED_PATH: Final = REFERENCE_DIR / "send-event-endpoint.txt"
OFFICIAL_PATH: Final = REFERENCE_DIR / "infobip-people-events.official.json"
REQUEST_SAMPLE: Final = "Request samples"
RESPONSE_SAMPLE: Final = "Response samples"
_OPERATION_ID: Final = "send-custom-event"


@cache
def seed_text() -> str:
    """The seed page, as copied."""
    return SEED_PATH.read_text("utf-8")


def seed_sample(heading: str) -> dict[str, Any]:
    """The JSON sample under `heading` ("Request samples" or "Response samples"), without the page's bullets."""
    text = seed_text()
    block = text[text.index("{", text.index(heading)) :]
    depth = end = 0
    while True:
        depth += {"{": 1, "}": -1}.get(block[end], 0)
        if depth == 0:
            break
        end += 1
    raw = re.sub(r'"\s*\n\s*(?=[{\[])', '" ', block[: end + 1].replace("•", ""))
    sample: dict[str, Any] = json.loads(raw)
    return sample


def seed_identifier_types() -> tuple[str, ...]:
    """The identifierType enum as the seed lists it (``Enum: "ID" "EXTERNAL_ID" ...``)."""
    line = next(line for line in seed_text().splitlines() if line.startswith("Enum: "))
    return tuple(re.findall(r'"([A-Z_]+)"', line))


def seed_statuses() -> frozenset[int]:
    """The response statuses the seed documents (each on a line of its own)."""
    return frozenset(int(code) for code in re.findall(r"^(\d{3})$", seed_text(), flags=re.MULTILINE))


@cache
def official_spec() -> dict[str, Any]:
    """Infobip's published spec (the extract)."""
    spec: dict[str, Any] = json.loads(OFFICIAL_PATH.read_text("utf-8"))
    return spec


def official_operation() -> dict[str, Any]:
    """Send Event in Infobip's published spec."""
    for item in official_spec()["paths"].values():
        operation: dict[str, Any] = item.get("post", {})
        if operation.get("operationId") == _OPERATION_ID:
            return operation
    raise LookupError(f"the official extract has no {_OPERATION_ID}")


def official_identifier_types() -> tuple[str, ...]:
    """Infobip's PersonUniqueFieldType enum: the identifier types the live API accepts."""
    schemas = official_spec()["components"]["schemas"]
    return tuple(next(schema["enum"] for name, schema in schemas.items() if name.endswith(".PersonUniqueFieldType")))
