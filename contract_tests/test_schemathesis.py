"""Schemathesis fuzzes Send Event on the in-process reference mock and must find nothing.

All built-in checks, positive and negative modes, the examples, coverage and fuzzing phases; the
settings are in schemathesis.toml at the repository root (auth: the fuzzing account F, whose limit
keeps 429 from hiding results). A `map_case` hook seeds positive cases with fixture ids and the
seed's properties, so that a good share reach 201 instead of 404 or 400. Faults stay out: no
X-Mock-Fault header is ever sent, and the fresh app has no fault rules.
"""

from __future__ import annotations

import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis import Case
from schemathesis.generation.meta import CoveragePhaseData

from people_events_mock import create_app
from people_events_mock.fixtures import default_fixtures

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi.yaml"
SEED_PROPERTIES: dict[str, Any] = {
    "transactionId": "my-transaction-1",
    "fromPromoCampaign": True,
    "totalCost": 100,
    "itemsInCart": [
        {"itemId": 1, "price": 25, "quantity": 3, "inStockSince": "2023-11-17T15:47:50.4136517Z", "category": "clothes"}
    ],
}
# (identifierType, personId) of account F's fixture persons, and its definitions.
PERSONS = [(person.identifier_type, person.person_id) for person in default_fixtures().account("F").persons]
DEFINITIONS = [definition.definition_id for definition in default_fixtures().account("F").definitions]
SEEDED_PARAMETERS = {"personId", "definitionId", "identifierType"}

schema = schemathesis.openapi.from_path(SPEC_PATH)
schema.app = create_app()

#: Responses seen, by status, for the report at the end of the module.
STATUSES: Counter[int] = Counter()


def _targets_seeded_parameter(case: Case[Any]) -> bool:
    """Whether a coverage case is about an id or the identifier type (then it must keep its own value)."""
    data = case.meta.phase.data if case.meta else None
    return isinstance(data, CoveragePhaseData) and data.parameter in SEEDED_PARAMETERS


@schema.hook
def map_case(context: Any, case: Case[Any]) -> Case[Any]:
    """Seed two thirds of the positive cases with a fixture person and definition, and half of those with
    the seed's properties. The choice is a hash of the generated case: deterministic, and reproducible."""
    if case.meta is None or not case.meta.generation.mode.is_positive or _targets_seeded_parameter(case):
        return case
    pick = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode())
    if pick % 3 == 0:
        return case
    identifier_type, person_id = PERSONS[pick % len(PERSONS)]
    case.path_parameters = {**(case.path_parameters or {}), "personId": person_id}
    case.path_parameters["definitionId"] = DEFINITIONS[pick % len(DEFINITIONS)]
    case.query = {**(case.query or {}), "identifierType": identifier_type}
    if isinstance(case.body, dict) and isinstance(case.body.get("properties"), dict) and pick % 2:
        case.body = {**case.body, "properties": SEED_PROPERTIES}
    return case


@schema.parametrize()
def test_send_event_conforms_to_the_spec(case: Case[Any]) -> None:
    if case.headers:
        case.headers.pop("X-Mock-Fault", None)
    response = case.call_and_validate()
    STATUSES[response.status_code] += 1


@pytest.fixture(scope="module", autouse=True)
def _report_statuses() -> Any:
    yield
    total = sum(STATUSES.values())
    if total:
        shares = ", ".join(f"{status}: {count} ({count / total:.0%})" for status, count in sorted(STATUSES.items()))
        print(f"\nschemathesis responses by status ({total} cases): {shares}")
