"""The schemathesis schema of the contract suite: openapi.yaml, schemathesis.toml, and the target's seeds.

`load_schema` loads the spec (schemathesis.toml is found from the working directory upwards) and
installs the hooks that make generated cases useful and safe:

- On the reference mock, two thirds of the positive cases get a fixture person and definition (and half
  of those the seed sample's properties), so a good share reach 201 instead of 404. Negative cases
  aimed at identifierType get a real person too, so that a server accepting a bad identifierType
  cannot hide behind a 404. The choice is a hash of the generated case: deterministic and reproducible.
- On a live target, every case is about the named person and definition, createPerson is never sent
  (negative cases that negate it are dropped), only POST is sent, and the account's API key is used.
  Values that cannot name any person (empty, or longer than the spec allows) are kept for negative
  testing. An eventId shorter than 16 characters becomes a fresh random one of 16, so that a live person's
  events from earlier runs cannot answer for it. `targets.LiveGuard` enforces the same bounds again on every
  request that leaves.
- `checks.configure` learns which persons and definitions exist (the seeds) and the known-good properties, for
  `known_person_request_is_created`.

`run_focused` runs a few generated cases against one app with only the named checks: the deliberate-
fault tests use it to show that each check catches its fault.

Environment: ``CONTRACT_MAX_EXAMPLES`` overrides max-examples (``make fuzz`` sets it from FUZZ_EXAMPLES),
``CONTRACT_SEED`` fixes the seed (``make fuzz SEED=...``).
"""

from __future__ import annotations

import os
import secrets
import string
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Final
from urllib.parse import unquote

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import Case, CheckFunction, GenerationMode
from schemathesis.config import ApiKeyAuthConfig
from schemathesis.generation.meta import CoveragePhaseData
from schemathesis.schemas import BaseSchema
from starlette.types import ASGIApp

from .checks import configure
from .live import LiveSettings
from .spec import SEND_EVENT_PATH, SPEC_PATH, identifier_types, max_length, seed_properties
from .targets import Seeds, mock_seeds

__all__ = ["LIVE_MAX_EXAMPLES", "load_schema", "run_focused"]

#: max-examples on a live target, where the event budget bounds the run anyway.
LIVE_MAX_EXAMPLES: Final = 25
ENV_MAX_EXAMPLES: Final = "CONTRACT_MAX_EXAMPLES"
ENV_SEED: Final = "CONTRACT_SEED"
_SEEDED_PARAMETERS: Final = frozenset({"personId", "definitionId", "identifierType"})
#: On live, eventIds shorter than this are replaced with fresh random ones of this length.
LIVE_MIN_EVENT_ID_LENGTH: Final = 16
_EVENT_ID_ALPHABET: Final = string.ascii_letters + string.digits


def _coverage_parameter(case: Case[Any]) -> str | None:
    """The parameter a coverage-phase case is about, if any."""
    data = case.meta.phase.data if case.meta else None
    return data.parameter if isinstance(data, CoveragePhaseData) else None


def _pick(case: Case[Any]) -> int:
    return zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode())


def _seed_mock_case(case: Case[Any], seeds: Seeds) -> Case[Any]:
    assert case.meta is not None
    about = _coverage_parameter(case)
    pick = _pick(case)
    query = dict(case.query or {})
    if case.meta.generation.mode.is_negative:
        if about != "identifierType":
            return case
        # A real person, of the type the bad value spells when upper-cased, if any: only a 400 is right.
        value = query.get("identifierType")
        spelled = value.upper() if isinstance(value, str) else None
        _, person_id = next((p for p in seeds.persons if p[0] == spelled), seeds.persons[0])
        case.path_parameters = {"personId": person_id, "definitionId": seeds.definitions[0]}
        return case
    if about in _SEEDED_PARAMETERS or pick % 3 == 0:
        return case
    identifier_type, person_id = seeds.persons[pick % len(seeds.persons)]
    case.path_parameters = {"personId": person_id, "definitionId": seeds.definitions[pick % len(seeds.definitions)]}
    case.query = {**query, "identifierType": identifier_type}
    body = case.body
    if (
        seeds.properties is not None
        and pick % 2
        and isinstance(body, dict)
        and isinstance(body.get("properties"), dict)
    ):
        case.body = {**body, "properties": dict(seeds.properties)}
    return case


def _names_nothing(value: Any, limit: int) -> bool:
    """Whether a path value cannot name any person or definition, as sent or percent-decoded (negative cases may
    hold values already encoded): empty, or longer than the spec allows."""
    return isinstance(value, str) and all(text == "" or len(text) > limit for text in (value, unquote(value)))


def _shape_live_case(case: Case[Any], live: LiveSettings) -> Case[Any]:
    assert case.meta is not None
    positive = case.meta.generation.mode.is_positive
    path = dict(case.path_parameters or {})
    for name, named in (("personId", live.person_id), ("definitionId", live.definition_id)):
        if positive or not _names_nothing(path.get(name), max_length(name)):
            path[name] = named
    case.path_parameters = path
    query = dict(case.query or {})
    value = query.get("identifierType")
    values = value if isinstance(value, list) else [value]
    if positive or any(isinstance(v, str) and v.upper() in identifier_types() for v in values):
        query["identifierType"] = live.identifier_type
    if "createPerson" in query:
        query["createPerson"] = "false"  # negative cases that negate it never get here (filter_case)
    case.query = query
    if isinstance(case.body, dict):
        body = dict(case.body)
        if positive and live.properties is not None and _pick(case) % 2:
            body["properties"] = dict(live.properties)
        event_id = body.get("eventId")
        if positive and isinstance(event_id, str) and len(event_id) < LIVE_MIN_EVENT_ID_LENGTH:
            body["eventId"] = "".join(secrets.choice(_EVENT_ID_ALPHABET) for _ in range(LIVE_MIN_EVENT_ID_LENGTH))
        case.body = body
    return case


def _install_hooks(schema: BaseSchema, seeds: Seeds, live: LiveSettings | None) -> None:
    if live is not None:

        def filter_case(context: Any, case: Case[Any]) -> bool:
            """Drop what a live run must not send: other methods, and negative cases about createPerson (positive
            ones get createPerson=false from map_case)."""
            negative = case.meta is not None and case.meta.generation.mode.is_negative
            create_person = (case.query or {}).get("createPerson", "false")
            return case.method.upper() == "POST" and not (negative and create_person not in (False, "false"))

        schema.hook(filter_case)

    def map_case(context: Any, case: Case[Any]) -> Case[Any]:
        """Seed cases with real ids (see the module docstring)."""
        if case.meta is None:
            return case
        if live is not None:
            return _shape_live_case(case, live)
        return _seed_mock_case(case, seeds)

    schema.hook(map_case)


def load_schema(
    *, app: ASGIApp | None = None, seeds: Seeds | None = None, live: LiveSettings | None = None
) -> BaseSchema:
    """openapi.yaml as schemathesis runs it against `app` (in-process) or a base URL given at call time."""
    schema = schemathesis.openapi.from_path(SPEC_PATH)
    if app is not None:
        schema.app = app
    config = schema.config
    if os.environ.get(ENV_MAX_EXAMPLES):
        config.generation.update(max_examples=int(os.environ[ENV_MAX_EXAMPLES]))
    if os.environ.get(ENV_SEED):
        config.seed = int(os.environ[ENV_SEED])
    if live is not None:
        api_key = config.auth.openapi.schemes["APIKeyHeader"]
        assert isinstance(api_key, ApiKeyAuthConfig), "schemathesis.toml: [auth.openapi.APIKeyHeader] is an api_key"
        api_key.api_key = live.authorization
        config.generation.update(
            max_examples=min(config.generation.max_examples or LIVE_MAX_EXAMPLES, LIVE_MAX_EXAMPLES)
        )
        config.phases.coverage.unexpected_methods = set()
    else:
        # The mock's credentials are public fixtures: keep them in the curl reproductions, so they run as printed.
        config.output.sanitization.enabled = False
    seeds = seeds or mock_seeds()
    configure(set(seeds.persons), set(seeds.definitions), seeds.properties or seed_properties())
    _install_hooks(schema, seeds, live)
    return schema


def run_focused(
    app: ASGIApp,
    checks: Sequence[CheckFunction],
    *,
    mode: GenerationMode = GenerationMode.POSITIVE,
    max_examples: int = 30,
    transform: Callable[[Case[Any]], Case[Any]] | None = None,
) -> int:
    """Send `max_examples` generated cases (seeded as in the suite) to `app` in-process and run only `checks`.

    Raises schemathesis's FailureGroup for the first failing case; returns the number of cases sent.
    Deterministic: derandomized, no shrinking, no example database.
    """
    operation = load_schema(app=app)[SEND_EVENT_PATH]["POST"]
    strategy = operation.as_strategy(generation_mode=mode)
    if transform is not None:
        strategy = strategy.map(transform)
    sent = 0

    @hypothesis.settings(
        max_examples=max_examples,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(strategy)
    def run(case: Case[Any]) -> None:
        nonlocal sent
        response = case.call()
        sent += 1
        case.validate_response(response, checks=list(checks))

    run()
    return sent
