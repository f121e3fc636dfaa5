"""Input rows for the bulk CLI and the delivery engine, and running `people-events` as a real process.

Rows target the reference mock's default fixtures (account A): one person per identifier type and the
`addToCart` definition. Each good row carries a unique ``transactionId`` so a read-back can find it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from people_events_mock.fixtures import default_fixtures

API_KEY = "mock-api-key"
"""Account A's key in the mock's fixtures."""
DEFINITION = "addToCart"
PERSONS = [(person.identifier_type, person.person_id) for person in default_fixtures().account("A").persons]
"""(identifierType, personId) of account A's fixture persons."""


def good_row(number: int, *, event_id: str | None = None, tag: str = "row") -> dict[str, Any]:
    """A row the mock accepts: a fixture person, `addToCart`, properties of the right types."""
    identifier_type, person_id = PERSONS[number % len(PERSONS)]
    row: dict[str, Any] = {
        "personId": person_id,
        "identifierType": identifier_type,
        "definitionId": DEFINITION,
        "properties": {"transactionId": f"{tag}-{number}", "totalCost": number % 500 + 0.5},
    }
    if event_id is not None:
        row["eventId"] = event_id
    return row


def unknown_person_row(number: int) -> dict[str, Any]:
    """Valid locally; the mock answers 404 (no such person, and createPerson is false)."""
    return {"personId": f"nobody-{number}", "identifierType": "EMAIL", "definitionId": DEFINITION}


def wrong_type_row(number: int) -> dict[str, Any]:
    """Valid locally; the mock answers 400: totalCost must be a number."""
    row = good_row(number, tag="wrong-type")
    row["properties"]["totalCost"] = "not a number"
    return row


def bad_identifier_row(number: int) -> dict[str, Any]:
    """Invalid locally (never sent): an identifier type that does not exist."""
    row = good_row(number, tag="bad-identifier")
    row["identifierType"] = "CARRIER_PIGEON"
    return row


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def command(*args: str) -> list[str]:
    """`people-events send ARGS` as this interpreter runs it (`python -m people_events_client`)."""
    return [sys.executable, "-m", "people_events_client", "send", *args]


def environment(base_url: str | None = None, api_key: str | None = API_KEY) -> dict[str, str]:
    """The process environment with the credentials in INFOBIP_BASE_URL / INFOBIP_API_KEY (or without them)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOBIP_")}
    env["PYTHONUNBUFFERED"] = "1"
    if base_url is not None:
        env["INFOBIP_BASE_URL"] = base_url
    if api_key is not None:
        env["INFOBIP_API_KEY"] = api_key
    return env


def run(args: Sequence[str], env: Mapping[str, str], *, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run `people-events send ARGS` to its end (bounded by `timeout`), capturing stdout and stderr."""
    return subprocess.run(command(*args), env=dict(env), capture_output=True, text=True, timeout=timeout, check=False)
