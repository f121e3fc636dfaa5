"""Whether everything built from openapi.yaml follows it: the spec-change workflow's one message per problem.

Data flows one way (openapi.yaml -> generated client and facade; openapi.yaml -> reference mock; openapi.yaml ->
this suite), so after a change of the spec each component either follows by itself or needs a hand edit. The
checks here find the hand edits and name the file for each, in three layers:

- ``REFERENCE_CHECKS``: openapi.yaml still agrees with the seed and Infobip's published operation (copied in
  contract_tests/reference/). A disagreement is fixed in openapi.yaml, or in the reference copy when Infobip's
  documentation changed.
- ``CLIENT_CHECKS``: the facade can send every request field and query parameter of the spec, every identifier
  type, parses the 201 example, raises a typed error that carries every required field of each error example, and
  the package version is the spec's. Behavioural: the facade sends to an ``httpx.MockTransport``.
- ``MOCK_CHECKS``: the reference mock answers the seed request with a 201 that conforms to the spec, answers 404
  (never 400) for an unknown person of every documented identifier type, and errors in the spec's envelope.

The rest of the contract suite waits for these (conftest.py skips it while any of them finds a problem), so a
change of the spec fails with one message per file to edit instead of a cascade of consequences.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import httpx

import people_events_client
from people_events_client import EventResponse, PeopleEvents, PeopleEventsError

from .reference import (
    OFFICIAL_PATH,
    REQUEST_SAMPLE,
    RESPONSE_SAMPLE,
    SEED_PATH,
    official_identifier_types,
    official_operation,
    official_spec,
    seed_identifier_types,
    seed_sample,
    seed_statuses,
)
from .spec import (
    REPO_ROOT,
    documented_statuses,
    echo_event_id,
    error_detail_fields,
    event_path,
    identifier_types,
    info_version,
    load_spec,
    request_body_errors,
    request_fields,
    resolve,
    response_errors,
    same_event,
    seed_request_example,
    seed_response_example,
    send_event_operation,
)

__all__ = [
    "CLIENT_CHECKS",
    "MOCK_CHECKS",
    "REFERENCE_CHECKS",
    "Check",
    "Drift",
    "first_drift",
    "overlay_source",
    "run_check",
    "snake_case",
]

_SPEC: Final = "openapi.yaml"
_SEED: Final = SEED_PATH.relative_to(REPO_ROOT).as_posix()
_OFFICIAL: Final = OFFICIAL_PATH.relative_to(REPO_ROOT).as_posix()
_BASE_URL: Final = "https://api.infobip.com"
_COPIED_FROM: Final = re.compile(r"^# copied from (?P<source>\S+) by `make regenerate`")


@dataclass(frozen=True, slots=True)
class Drift:
    """One hand edit a change of openapi.yaml needs: the file, and why."""

    file: str
    why: str

    def __str__(self) -> str:
        return f"edit {self.file}: {self.why}"


@dataclass(frozen=True, slots=True)
class Check:
    """A named check that returns the drifts it finds (none when the component follows the spec); `owner` names
    the file to blame when the component cannot even run the check."""

    name: str
    run: Callable[[], list[Drift]]
    owner: Callable[[], str]


def snake_case(name: str) -> str:
    """``occurredTime`` -> ``occurred_time``: the generator's (and the facade's) Python name of a spec field."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _relative(path: str | Path) -> str:
    try:
        return Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def overlay_source(obj: Any) -> str:
    """The file to edit for `obj`: the overlay module a generated module was copied from (its first line says
    which), or the module's own file."""
    path = inspect.getsourcefile(obj) or "?"
    with open(path, encoding="utf-8") as source:
        found = _COPIED_FROM.match(source.readline())
    return found["source"] if found else _relative(path)


def _mock_source(module: str, attribute: str | None = None) -> str:
    """The reference mock's file that holds `module.attribute` (or the package, if the mock moved it)."""
    import importlib

    try:
        found: ModuleType | Any = importlib.import_module(f"people_events_mock.{module}")
        if attribute is not None:
            found = getattr(found, attribute)
        return overlay_source(found)
    except (ImportError, AttributeError, TypeError):
        return "people_events_mock/"


def _spec_file() -> str:
    return _SPEC


def _mock_package() -> str:
    return "people_events_mock/"


# --- openapi.yaml against the references ------------------------------------------------------------------------


def _identifier_types_cover_the_references() -> list[Drift]:
    ours = set(identifier_types())
    drifts = [
        Drift(_SPEC, f"identifierType lacks {value}, which the seed ({_SEED}) documents")
        for value in seed_identifier_types()
        if value not in ours
    ]
    drifts += [
        Drift(_SPEC, f"identifierType lacks {value}, which Infobip's published spec ({_OFFICIAL}) accepts")
        for value in official_identifier_types()
        if value not in ours
    ]
    return drifts


def _parameters_match_the_official_operation() -> list[Drift]:
    """The same query parameters (name, required), and the same path parameters, as Infobip's operation."""

    def wire(operation: dict[str, Any]) -> set[tuple[str, str, bool]]:
        return {(p["name"], p["in"], bool(p.get("required", False))) for p in operation["parameters"]}

    ours, theirs = wire(send_event_operation()), wire(official_operation())
    return [
        Drift(_SPEC, f"parameters differ from Infobip's published operation ({_OFFICIAL}): {sorted(ours ^ theirs)}")
    ] * (ours != theirs)


def _statuses_cover_the_references() -> list[Drift]:
    ours = set(documented_statuses())
    theirs = seed_statuses() | {int(status) for status in official_operation()["responses"]}
    missing = sorted(theirs - ours)
    return [Drift(_SPEC, f"does not document {missing}, which the seed or Infobip's operation documents")] * bool(
        missing
    )


def _security_scopes_and_throttling_match_the_official_operation() -> list[Drift]:
    ours, theirs = send_event_operation(), official_operation()
    drifts = []
    if {next(iter(s)) for s in ours["security"]} != {next(iter(s)) for s in theirs["security"]}:
        drifts.append(Drift(_SPEC, f"security schemes differ from Infobip's ({_OFFICIAL})"))
    for key in ("x-scopes", "x-throttling-info"):
        if ours.get(key) != theirs.get(key):
            drifts.append(Drift(_SPEC, f"{key} is {ours.get(key)}, Infobip's ({_OFFICIAL}) is {theirs.get(key)}"))
    return drifts


def _only_application_json_is_declared() -> list[Drift]:
    """The generator needs one media type; the server's other JSON types are documented in prose."""
    operation = send_event_operation()
    drifts = []
    if list(operation["requestBody"]["content"]) != ["application/json"]:
        drifts.append(Drift(_SPEC, "the request body must declare only application/json (the generator's limit)"))
    drifts += [
        Drift(_SPEC, f"response {status} must declare only application/json")
        for status, response in operation["responses"].items()
        if list(response.get("content", {})) != ["application/json"]
    ]
    return drifts


def _rate_limit_answer_says_when_to_retry() -> list[Drift]:
    header = send_event_operation()["responses"].get("429", {}).get("headers", {}).get("Retry-After")
    if header is None or header.get("required") is not True or not header.get("example", 0) >= 1:
        return [Drift(_SPEC, "429 must declare a required Retry-After header with an example >= 1 (Prism needs it)")]
    return []


def _sample_is_the_example(heading: str, example: dict[str, Any], where: str, schema: Any) -> list[Drift]:
    sample = seed_sample(heading)
    problems = []
    if example != sample:
        changed = sorted(set(example) ^ set(sample)) or sorted(k for k in example if example[k] != sample.get(k))
        problems.append(f"its `seed` example differs from the seed's sample in {changed}")
    problems += [
        f"the seed's sample does not validate: {error.message}" for error in _validator(schema).iter_errors(sample)
    ]
    if not problems:
        return []
    return [
        Drift(
            _SPEC,
            f"{where}: {'; '.join(problems)}. The seed ({_SEED}) is Infobip's documentation: follow it, or "
            "update that copy if the documentation changed",
        )
    ]


def _validator(schema: Any) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(
        resolve(schema), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _request_sample_is_the_seed_example() -> list[Drift]:
    media = send_event_operation()["requestBody"]["content"]["application/json"]
    drifts = _sample_is_the_example(REQUEST_SAMPLE, seed_request_example(), "request body", media["schema"])
    drifts += [
        Drift(_SPEC, f"request example {name!r} does not validate: {'; '.join(request_body_errors(example['value']))}")
        for name, example in media["examples"].items()
        if request_body_errors(example["value"])
    ]
    return drifts


def _response_sample_is_the_seed_example() -> list[Drift]:
    media = send_event_operation()["responses"]["201"]["content"]["application/json"]
    return _sample_is_the_example(RESPONSE_SAMPLE, seed_response_example(), "201", media["schema"])


def _error_examples_are_envelopes() -> list[Drift]:
    drifts = []
    for status, response in send_event_operation()["responses"].items():
        if status.startswith("2"):
            continue
        media = response["content"]["application/json"]
        if "example" not in media:
            drifts.append(Drift(_SPEC, f"response {status} needs an example (the client contract serves it)"))
            continue
        errors = [error.message for error in _validator(media["schema"]).iter_errors(media["example"])]
        if errors:
            drifts.append(Drift(_SPEC, f"the example of {status} does not validate: {'; '.join(errors)}"))
    return drifts


def _official_properties_defect_is_still_fixed() -> list[Drift]:
    """Infobip's published spec types every value of `properties` as an object, which its own example violates."""
    official = official_spec()["components"]["schemas"]
    request = next(schema for name, schema in official.items() if name.endswith(".EventResourceRequest"))
    drifts = []
    if request["properties"]["properties"].get("additionalProperties") != {"type": "object"}:
        drifts.append(Drift(_OFFICIAL, "the `properties` defect openapi.yaml corrects has moved: recheck it"))
    if load_spec()["components"]["schemas"]["EventProperties"].get("additionalProperties") is not True:
        drifts.append(Drift(_SPEC, "EventProperties must allow any JSON value (additionalProperties: true)"))
    return drifts


def _path_parameters_are_bounded() -> list[Drift]:
    """Every path parameter has a minLength >= 1 and a maxLength: the live guard and the negative cases need them."""
    return [
        Drift(_SPEC, f"path parameter {p['name']} needs minLength >= 1 and a maxLength")
        for p in send_event_operation()["parameters"]
        if p["in"] == "path"
        and not (resolve(p["schema"]).get("minLength", 0) >= 1 and "maxLength" in resolve(p["schema"]))
    ]


REFERENCE_CHECKS: Final = (
    Check("identifier-types-cover-the-references", _identifier_types_cover_the_references, _spec_file),
    Check("parameters-match-the-official-operation", _parameters_match_the_official_operation, _spec_file),
    Check("statuses-cover-the-references", _statuses_cover_the_references, _spec_file),
    Check("security-scopes-throttling-match", _security_scopes_and_throttling_match_the_official_operation, _spec_file),
    Check("only-application-json", _only_application_json_is_declared, _spec_file),
    Check("rate-limit-answer-says-when-to-retry", _rate_limit_answer_says_when_to_retry, _spec_file),
    Check("request-sample-is-the-seed-example", _request_sample_is_the_seed_example, _spec_file),
    Check("response-sample-is-the-seed-example", _response_sample_is_the_seed_example, _spec_file),
    Check("error-examples-are-envelopes", _error_examples_are_envelopes, _spec_file),
    Check("official-properties-defect-is-fixed", _official_properties_defect_is_still_fixed, _spec_file),
    Check("path-parameters-are-bounded", _path_parameters_are_bounded, _spec_file),
)


# --- the generated client and its facade -------------------------------------------------------------------------


class _Recorder:
    """An httpx.MockTransport body: records each request and answers with a canned response (a 201 records the
    eventId sent, as a server does)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=echo_event_id(self.status, self.body, request), headers=self.headers)


def _facade(recorder: _Recorder) -> PeopleEvents:
    transport = httpx.MockTransport(recorder)
    return PeopleEvents(
        _BASE_URL, "sync-check-key", rate_limit=None, max_retries=0, http_client_args={"transport": transport}
    )


def _definition_id() -> str:
    return str(seed_response_example()["definitionId"])


def _send(recorder: _Recorder, **keywords: Any) -> EventResponse | PeopleEventsError:
    """One send through the facade to `recorder`; the event, or the error it raised."""
    keywords.setdefault("identifier_type", identifier_types()[0])
    with _facade(recorder) as people:
        try:
            return people.send("sync-check-person", _definition_id(), **keywords)
        except PeopleEventsError as error:
            return error


def _created() -> _Recorder:
    return _Recorder(201, seed_response_example())


def _sample_value(field: str) -> Any:
    """A valid value of a request field: the schema's example, else one of the request examples', else by type."""
    media = send_event_operation()["requestBody"]["content"]["application/json"]
    schema = resolve(media["schema"])["properties"][field]
    if "example" in schema:
        return schema["example"]
    for example in media["examples"].values():
        if field in example["value"]:
            return example["value"][field]
    kind = next((t for t in _types(schema) if t != "null"), "string")
    if kind == "string":
        return datetime.now(UTC).isoformat() if schema.get("format") == "date-time" else "sync-check"
    return {"integer": 1, "number": 1.5, "boolean": True, "object": {}, "array": []}.get(kind)


def _types(schema: dict[str, Any]) -> list[str]:
    kinds = schema.get("type", [])
    found = list(kinds) if isinstance(kinds, list) else [kinds]
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += _types(option)
    return found


def _facade_file() -> str:
    return overlay_source(PeopleEvents)


def _keywords() -> dict[str, set[str]]:
    """The keyword parameters of each facade's send()."""
    from people_events_client import AsyncPeopleEvents

    return {
        f"{facade.__name__}.send()": set(inspect.signature(facade.send).parameters)
        for facade in (PeopleEvents, AsyncPeopleEvents)
    }


def _facade_sends_every_request_field() -> list[Drift]:
    drifts = []
    for field in request_fields():
        keyword = snake_case(field)
        lacking = [name for name, keywords in _keywords().items() if keyword not in keywords]
        if lacking:
            drifts.append(
                Drift(
                    _facade_file(),
                    f"{' and '.join(lacking)} cannot send `{field}`, a field of openapi.yaml's request body: add a "
                    f"`{keyword}=` keyword, or the field never reaches the server",
                )
            )
            continue
        recorder, value = _created(), _sample_value(field)
        outcome = _send(recorder, **{keyword: value})
        sent = json.loads(recorder.requests[-1].content) if recorder.requests else {}
        if isinstance(outcome, PeopleEventsError) or sent.get(field) != value:
            drifts.append(
                Drift(_facade_file(), f"send({keyword}={value!r}) does not send `{field}`: the body was {sent}")
            )
    return drifts


def _facade_sends_every_query_parameter() -> list[Drift]:
    drifts = []
    for parameter in send_event_operation()["parameters"]:
        if parameter["in"] != "query":
            continue
        keyword = snake_case(parameter["name"])
        lacking = [name for name, keywords in _keywords().items() if keyword not in keywords]
        if lacking:
            drifts.append(
                Drift(
                    _facade_file(),
                    f"{' and '.join(lacking)} cannot send the query parameter `{parameter['name']}`: add `{keyword}=`",
                )
            )
    for value in identifier_types():
        recorder = _created()
        try:
            _send(recorder, identifier_type=value)
        except ValueError as error:
            drifts.append(Drift("generated/", f"identifierType {value} is refused ({error}): run `make regenerate`"))
            continue
        sent = recorder.requests[-1].url.params.get("identifierType") if recorder.requests else None
        if sent != value:
            drifts.append(Drift(_facade_file(), f"send(identifier_type={value!r}) sent identifierType={sent!r}"))
    return drifts


def _facade_parses_every_documented_response() -> list[Drift]:
    drifts = []
    outcome = _send(_created(), event_id=seed_response_example()["eventId"])
    if not isinstance(outcome, EventResponse) or not same_event(seed_response_example(), outcome.to_dict()):
        drifts.append(Drift(_facade_file(), f"the spec's 201 example does not come back from send(): {outcome!r}"))
    errors_file = overlay_source(PeopleEventsError)
    for status, response in send_event_operation()["responses"].items():
        example = response["content"]["application/json"].get("example")
        if status.startswith("2") or example is None:
            continue
        headers = {name: str(h.get("example", "")) for name, h in response.get("headers", {}).items()}
        raised = _send(_Recorder(int(status), example, headers))
        if not isinstance(raised, PeopleEventsError) or raised.status != int(status):
            drifts.append(Drift(errors_file, f"a documented {status} did not raise PeopleEventsError: {raised!r}"))
            continue
        details = example["requestError"]["serviceException"]
        for field in error_detail_fields():
            if getattr(raised, snake_case(field), None) != details.get(field):
                drifts.append(
                    Drift(
                        errors_file,
                        f"PeopleEventsError.{snake_case(field)} must carry `{field}`, a required field of Infobip's "
                        f"error envelope in openapi.yaml (the {status} example's is {details.get(field)!r})",
                    )
                )
    return drifts


def _package_version_is_the_spec_version() -> list[Drift]:
    version = people_events_client.__version__
    if version == info_version() or version.startswith((f"{info_version()}.", f"{info_version()}+")):
        return []
    return [
        Drift(
            "codegen/templates/",
            f"people_events_client.__version__ is {version}, not openapi.yaml's info.version {info_version()} "
            "(plus a release suffix); then run `make regenerate`",
        )
    ]


CLIENT_CHECKS: Final = (
    Check("facade-sends-every-request-field", _facade_sends_every_request_field, _facade_file),
    Check("facade-sends-every-query-parameter", _facade_sends_every_query_parameter, _facade_file),
    Check("facade-parses-every-documented-response", _facade_parses_every_documented_response, _facade_file),
    Check("package-version-is-the-spec-version", _package_version_is_the_spec_version, _facade_file),
)


# --- the reference mock -------------------------------------------------------------------------------------------


#: Account A's API key among the reference mock's public fixtures.
_MOCK_AUTHORIZATION: Final = {"Authorization": "App mock-api-key"}


@cache
def _mock_answers() -> dict[str, httpx.Response]:
    """What a fresh reference mock answers to the requests the mock checks need (keyed by purpose)."""
    from people_events_mock import create_app
    from people_events_mock.fixtures import default_fixtures

    person = next(iter(default_fixtures().account("A").persons))

    async def exchange() -> dict[str, httpx.Response]:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:

            async def post(person_id: str, identifier_type: str, body: Any = None) -> httpx.Response:
                return await client.post(
                    event_path(person_id, _definition_id()),
                    params={"identifierType": identifier_type},
                    headers=_MOCK_AUTHORIZATION,
                    json=body,
                )

            answers = {
                "seed": await post(
                    person.person_id,
                    person.identifier_type,
                    {**seed_request_example(), "eventId": f"sync-{uuid.uuid4().hex[:20]}"},
                )
            }
            for value in identifier_types():
                answers[f"unknown:{value}"] = await post(f"sync-nobody-{uuid.uuid4().hex}", value)
            return answers

    return asyncio.run(exchange())


def _problems(response: httpx.Response) -> list[str]:
    return response_errors(response.status_code, dict(response.headers), response.content)


def _mock_creates_the_seed_event() -> list[Drift]:
    answer = _mock_answers()["seed"]
    file = _mock_source("store", "StoredEvent")
    if answer.status_code != 201:
        return [Drift(file, f"the reference mock answers the seed request with {answer.status_code}: {answer.text}")]
    problems = _problems(answer)
    if answer.json().get("properties") != seed_request_example().get("properties"):
        problems.append("its properties are not the ones sent")
    return [Drift(file, f"the reference mock's 201 does not follow openapi.yaml: {'; '.join(problems)}")] * bool(
        problems
    )


def _mock_knows_every_identifier_type() -> list[Drift]:
    wrong = {
        key.split(":", 1)[1]: answer.status_code
        for key, answer in _mock_answers().items()
        if key.startswith("unknown:") and answer.status_code != 404
    }
    if not wrong:
        return []
    return [
        Drift(
            _mock_source("validation"),
            f"the reference mock answers {wrong} for an unknown person of these documented identifier types, "
            "not 404: it must accept every identifierType openapi.yaml documents",
        )
    ]


def _mock_errors_are_envelopes() -> list[Drift]:
    answers = [a for key, a in _mock_answers().items() if key.startswith("unknown:") and a.status_code == 404]
    problems = sorted({problem for answer in answers for problem in _problems(answer)})
    return [Drift(_mock_source("errors"), f"the reference mock's 404 does not follow openapi.yaml: {problems}")] * bool(
        problems
    )


MOCK_CHECKS: Final = (
    Check("mock-creates-the-seed-event", _mock_creates_the_seed_event, _mock_package),
    Check("mock-knows-every-identifier-type", _mock_knows_every_identifier_type, _mock_package),
    Check("mock-errors-are-envelopes", _mock_errors_are_envelopes, _mock_package),
)


@cache
def run_check(check: Check) -> tuple[Drift, ...]:
    """The drifts `check` finds (computed once per process)."""
    try:
        return tuple(check.run())
    except Exception as error:  # a component that no longer even runs is a drift too, with its cause
        return (Drift(check.owner(), f"{check.name} could not run: {type(error).__name__}: {error}"),)


def first_drift(*layers: tuple[Check, ...]) -> Drift | None:
    """The first drift found by the checks of `layers` (default: every layer), or None when all follow the spec."""
    for checks in layers or (REFERENCE_CHECKS, CLIENT_CHECKS, MOCK_CHECKS):
        for check in checks:
            found = run_check(check)
            if found:
                return found[0]
    return None
