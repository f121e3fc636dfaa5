"""The default fixtures match docs/ARCHITECTURE.md's 'Default fixtures' table, and the fixture format is described
by its JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import people_events_mock
from people_events_mock import create_app
from people_events_mock.definitions import FieldType
from people_events_mock.fixtures import FixtureError, default_fixtures, load_fixtures, parse_fixtures
from people_events_mock.samples import seed_properties
from people_events_mock.spec import default_spec
from people_events_mock.state import mock_state

PACKAGE = Path(people_events_mock.__file__).parent


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PACKAGE / "fixtures.json").read_text("utf-8"))
    return loaded


def test_fixtures_file_follows_its_schema() -> None:
    schema = json.loads((PACKAGE / "fixtures.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document(), schema, cls=jsonschema.Draft202012Validator)


def test_accounts_credentials_scopes_and_limits_match_the_design() -> None:
    table = {
        (
            account.name,
            credential.type,
            credential.username,
            credential.secret,
            tuple(sorted(credential.scopes)),
            account.rate_limit,
        )
        for account in default_fixtures().accounts
        for credential in account.credentials
    }
    assert table == {
        ("A", "App", None, "mock-api-key", ("people:manage",), 250),
        ("A", "Basic", "mock-user", "mock-password", ("people:manage",), 250),
        ("A", "IBSSO", None, "mock-ibsso-token", ("people:manage",), 250),
        ("A", "Bearer", None, "mock-oauth-token", ("people:manage",), 250),
        ("A", "App", None, "mock-readonly-key", ("people:read",), 250),
        ("B", "App", None, "mock-api-key-b", ("people:manage",), 250),
        ("F", "App", None, "mock-fuzz-key", ("people:manage",), 1_000_000),
    }


@pytest.mark.parametrize("account", ["A", "B", "F"])
def test_every_account_has_a_person_of_each_identifier_type(account: str) -> None:
    persons = {person.identifier_type: person.person_id for person in default_fixtures().account(account).persons}
    expected = {kind: f"{kind.lower()}-1" for kind in default_spec().identifier_types}
    expected |= {"EMAIL": "jane.doe@example.com", "PHONE": "41793026727", "EXTERNAL_ID": "crm-1001", "ID": "1001"}
    assert persons == expected


@pytest.mark.parametrize("account", ["A", "B", "F"])
def test_every_account_has_the_seed_add_to_cart_definition(account: str) -> None:
    [definition] = default_fixtures().account(account).definitions
    assert definition.definition_id == "addToCart"
    types = {name: spec.type for name, spec in definition.fields.items()}
    assert types == {
        "transactionId": FieldType.STRING,
        "fromPromoCampaign": FieldType.BOOLEAN,
        "totalCost": FieldType.DECIMAL,
        "itemsInCart": FieldType.LIST,
    }
    assert definition.fields["itemsInCart"].item_fields == {
        "itemId": FieldType.DECIMAL,
        "price": FieldType.DECIMAL,
        "quantity": FieldType.DECIMAL,
        "inStockSince": FieldType.DATETIME,
        "category": FieldType.STRING,
    }


def test_load_fixtures_reads_a_custom_file(tmp_path: Path) -> None:
    custom = {
        "accounts": [
            {
                "name": "X",
                "rateLimit": 2,
                "credentials": [{"type": "Bearer", "token": "t", "scopes": ["web:sdk"]}],
                "persons": [{"identifierType": "ID", "personId": "7"}],
            }
        ]
    }
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(custom))
    state = mock_state(create_app(fixtures=path))
    assert state.store.accounts() == ("X",)
    assert state.limiter.limit("X") == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda doc: doc["accounts"][0].pop("credentials"), "credentials"),
        (lambda doc: doc["accounts"][0].update(rateLimit=0), "rateLimit"),
        (lambda doc: doc["accounts"].append(doc["accounts"][1]), "defined twice"),
        (lambda doc: doc["accounts"][1]["credentials"].append(doc["accounts"][0]["credentials"][0]), "repeats"),
        (lambda doc: doc["everyAccount"]["persons"].append({"identifierType": "MAIL", "personId": "x"}), "MAIL"),
        (lambda doc: doc.update(extra=1), "extra"),
    ],
    ids=[
        "no-credentials",
        "zero-limit",
        "duplicate-account",
        "shared-credential",
        "bad-identifier-type",
        "unknown-key",
    ],
)
def test_invalid_fixtures_are_rejected(change: Any, message: str) -> None:
    doc = document()
    change(doc)
    with pytest.raises(FixtureError, match=message):
        parse_fixtures(doc)


def test_load_fixtures_rejects_non_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{")
    with pytest.raises(FixtureError):
        load_fixtures(path)


def test_account_b_gets_its_own_person_records() -> None:
    fixtures = default_fixtures()
    assert fixtures.account("A").persons == fixtures.account("B").persons
    state = mock_state(create_app())
    from people_events_mock.store import PersonKey

    state.store.add_person(PersonKey("A", "EMAIL", "a-only"))
    assert not state.store.has_person(PersonKey("B", "EMAIL", "a-only"))


def test_create_app_rejects_a_rate_limit_below_one() -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        create_app(rate_limit=0)


def test_seed_sample_is_the_spec_seed_example() -> None:
    """people_events_mock.samples ships the documented sample, the same as openapi.yaml's `seed` request example."""
    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
    operation = spec["paths"]["/peopleevents/2/persons/{personId}/definitions/{definitionId}/events"]["post"]
    example = operation["requestBody"]["content"]["application/json"]["examples"]["seed"]["value"]
    assert seed_properties() == example["properties"]
    assert seed_properties() is not seed_properties()
