"""Fixtures: the accounts, credentials, persons and event definitions the mock starts with.

The default set is `fixtures.json` in this package; its format is `fixtures.schema.json` beside
it, whose identifier types are openapi.yaml's (put in at load time: the spec is the one source of them).
`load_fixtures(path)` reads another file of the same format (`--fixtures FILE`). Every problem with a
fixtures file, down to invalid UTF-8, nesting too deep or a definitionId given twice, is a `FixtureError`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from people_events_mock.definitions import DefinitionError, EventDefinition, compile_definition
from people_events_mock.spec import SpecFacts, default_spec

__all__ = [
    "AccountFixture",
    "CredentialFixture",
    "FixtureError",
    "Fixtures",
    "PersonFixture",
    "default_fixtures",
    "load_fixtures",
    "parse_fixtures",
    "schema_errors",
]


class FixtureError(ValueError):
    """A fixtures document that does not follow fixtures.schema.json, or is inconsistent."""


@dataclass(frozen=True, slots=True)
class CredentialFixture:
    """One credential. `secret` is the key or token; for Basic it is the password and `username` is set."""

    type: str
    secret: str
    scopes: frozenset[str]
    username: str | None = None

    def __repr__(self) -> str:  # never show the secret
        return f"CredentialFixture(type={self.type!r}, scopes={sorted(self.scopes)!r})"


@dataclass(frozen=True, slots=True)
class PersonFixture:
    """A person, identified within its account by (identifier type, person id)."""

    identifier_type: str
    person_id: str


@dataclass(frozen=True, slots=True)
class AccountFixture:
    """An account: its credentials, rate limit, persons and event definitions."""

    name: str
    rate_limit: int
    rate_limit_fixed: bool
    credentials: tuple[CredentialFixture, ...]
    persons: tuple[PersonFixture, ...]
    definitions: tuple[EventDefinition, ...]


@dataclass(frozen=True, slots=True)
class Fixtures:
    """The whole fixture set."""

    accounts: tuple[AccountFixture, ...]

    def account(self, name: str) -> AccountFixture:
        """The account called `name` (KeyError when there is none)."""
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)

    def with_rate_limit(self, rate_limit: int) -> Fixtures:
        """A copy in which every account without `rateLimitFixed` has the given limit."""
        return Fixtures(
            accounts=tuple(
                account if account.rate_limit_fixed else replace(account, rate_limit=rate_limit)
                for account in self.accounts
            )
        )


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("people_events_mock").joinpath("fixtures.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(definition: str | None, identifier_types: tuple[str, ...]) -> Any:
    defs = {**_schema()["$defs"], "identifierType": {"enum": list(identifier_types)}}
    schema = {**_schema(), "$defs": defs} if definition is None else {"$ref": f"#/$defs/{definition}", "$defs": defs}
    return jsonschema.Draft202012Validator(schema)


def schema_errors(
    document: Any, *, definition: str | None = None, limit: int = 5, spec: SpecFacts | None = None
) -> dict[str, list[str]]:
    """Violations of fixtures.schema.json (or of one of its `$defs`), keyed by JSON path; empty when valid.
    Identifier types are the spec's (default: the packaged openapi.yaml)."""
    errors: dict[str, list[str]] = {}
    validator = _validator(definition, (spec or default_spec()).identifier_types)
    try:
        found = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    except RecursionError:
        return {"$": ["is nested too deeply"]}
    for error in found[:limit]:
        errors.setdefault(str(error.json_path), []).append(str(error.message)[:200])
    return errors


def _credential(raw: Mapping[str, Any]) -> CredentialFixture:
    scopes = frozenset(raw["scopes"])
    if raw["type"] == "App":
        return CredentialFixture(type="App", secret=raw["key"], scopes=scopes)
    if raw["type"] == "Basic":
        return CredentialFixture(type="Basic", secret=raw["password"], scopes=scopes, username=raw["username"])
    return CredentialFixture(type=raw["type"], secret=raw["token"], scopes=scopes)


def parse_fixtures(document: Mapping[str, Any], *, spec: SpecFacts | None = None) -> Fixtures:
    """Validate a fixtures document against fixtures.schema.json and build `Fixtures`."""
    errors = schema_errors(document, spec=spec)
    if errors:
        details = "; ".join(f"{path}: {', '.join(messages)}" for path, messages in errors.items())
        raise FixtureError(f"fixtures do not follow fixtures.schema.json: {details}")
    shared = document.get("everyAccount", {})
    accounts: list[AccountFixture] = []
    names: set[str] = set()
    secrets: set[tuple[str, str | None, str]] = set()
    for raw in document["accounts"]:
        if raw["name"] in names:
            raise FixtureError(f"account {raw['name']!r} is defined twice")
        names.add(raw["name"])
        credentials = tuple(_credential(credential) for credential in raw["credentials"])
        for credential in credentials:
            identity = (credential.type, credential.username, credential.secret)
            if identity in secrets:
                raise FixtureError(f"account {raw['name']!r} repeats a {credential.type} credential")
            secrets.add(identity)
        persons = tuple(
            PersonFixture(identifier_type=person["identifierType"], person_id=person["personId"])
            for person in [*shared.get("persons", []), *raw.get("persons", [])]
        )
        definitions: dict[str, EventDefinition] = {}
        for definition in [*shared.get("definitions", []), *raw.get("definitions", [])]:
            if definition["definitionId"] in definitions:
                raise FixtureError(
                    f"account {raw['name']!r}: definition {definition['definitionId']!r} is defined twice"
                )
            try:
                definitions[definition["definitionId"]] = compile_definition(definition)
            except DefinitionError as exc:
                name = f"account {raw['name']!r}: definition {definition['definitionId']!r}"
                raise FixtureError(f"{name}: {exc}") from None
        accounts.append(
            AccountFixture(
                name=raw["name"],
                rate_limit=raw["rateLimit"],
                rate_limit_fixed=raw.get("rateLimitFixed", False),
                credentials=credentials,
                persons=tuple(dict.fromkeys(persons)),
                definitions=tuple(definitions.values()),
            )
        )
    return Fixtures(accounts=tuple(accounts))


def load_fixtures(path: str | os.PathLike[str], *, spec: SpecFacts | None = None) -> Fixtures:
    """Read and validate a fixtures file. Raises `FixtureError` for any problem with it, OSError included."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except OSError as exc:
        raise FixtureError(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FixtureError(f"{name} is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise FixtureError(f"{name} is not valid JSON: {exc}") from None
    except RecursionError:
        raise FixtureError(f"{name} is nested too deeply") from None
    except ValueError as exc:  # an integer of over 4,300 digits
        raise FixtureError(f"{name} is not usable JSON: {str(exc)[:100]}") from None
    if not isinstance(document, dict):
        raise FixtureError(f"{name} must hold a JSON object")
    return parse_fixtures(document, spec=spec)


def _packaged_document() -> dict[str, Any]:
    text = resources.files("people_events_mock").joinpath("fixtures.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@cache
def _default_fixtures() -> Fixtures:
    return parse_fixtures(_packaged_document())


def default_fixtures(spec: SpecFacts | None = None) -> Fixtures:
    """The fixtures shipped in this package (docs/ARCHITECTURE.md, 'Default fixtures'), checked against
    `spec`'s identifier types (default: the packaged openapi.yaml's; that result is cached)."""
    return _default_fixtures() if spec is None else parse_fixtures(_packaged_document(), spec=spec)
