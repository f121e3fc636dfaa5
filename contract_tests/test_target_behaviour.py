"""Deterministic cases on this run's target, live included, each derived from openapi.yaml and the seed: what a
fuzzer reaches only by luck is sent here on every run.

- Every documented identifier type, with a fresh person that cannot exist: 404, never 400 (stores nothing).
- identifierType outside the enum (lower case, unknown, missing): 400 (stores nothing).
- Bodies the schema refuses (an eventId against its pattern, properties that are not an object): 400.
- The body shapes a client sends (no body, ``properties: null``, ``{}``, the seed's properties, the known-good
  ones): 201 that records the properties sent, or a 400 the documented rule explains (properties validated
  against the event definition, keyed ``properties.<field>``). Each stores one event on live (the budget).
"""

from __future__ import annotations

import uuid
from typing import Any, Final

import httpx
import pytest

from .checks import same_properties
from .report import curl_for
from .spec import event_id_pattern, event_path, identifier_types, request_body_errors, response_errors, seed_properties
from .targets import LIVE, Target, TargetKind

pytestmark = pytest.mark.live_safe

_NO_BODY: Final = object()


def _describe(response: httpx.Response) -> str:
    request = response.request
    return curl_for(request.method, str(request.url), request.headers.multi_items(), request.content)


async def _post(target: Target, person_id: str, identifier_type: str | None, body: Any = _NO_BODY) -> httpx.Response:
    params = {} if identifier_type is None else {"identifierType": identifier_type}
    async with target.raw_client() as client:
        path = event_path(person_id, target.named.definition_id)
        if body is _NO_BODY:
            return await client.post(path, params=params)
        return await client.post(path, params=params, json=body)


async def _assert_nothing_stored(target: Target, person_id: str) -> None:
    if target.kind is not TargetKind.LIVE:
        assert await target.stored_events(personId=person_id) == [], f"events were stored for {person_id!r}"


async def test_every_documented_identifier_type_is_accepted(contract_target: Target) -> None:
    """For each identifierType the spec documents, a person that cannot exist gets 404 in the spec's envelope:
    the type itself is accepted (a 400 would mean the server does not know it)."""
    wrong = {}
    for identifier_type in identifier_types():
        person_id = contract_target.unknown_person(identifier_type)
        response = await _post(contract_target, person_id, identifier_type)
        problems = response_errors(404, dict(response.headers), response.content)
        if response.status_code != 404 or problems:
            wrong[identifier_type] = f"{response.status_code} {problems or ''}: {_describe(response)}"
        await _assert_nothing_stored(contract_target, person_id)
    assert not wrong, "documented identifier types with an unknown person, not answered 404:\n" + "\n".join(
        f"  {identifier_type}: {answer}" for identifier_type, answer in wrong.items()
    )


@pytest.mark.parametrize("case", ["lower-case", "unknown", "missing"])
async def test_identifier_type_outside_the_enum_gets_400(contract_target: Target, case: str) -> None:
    """An identifierType the spec's enum lacks, for the named person, gets 400 and stores nothing: the named type in
    lower case, a value made of two documented ones, or none at all."""
    named = contract_target.named
    value = {
        "lower-case": named.identifier_type.lower(),
        "unknown": "_".join(identifier_types()[:2]) + "_NOT",
        "missing": None,
    }[case]
    response = await _post(contract_target, named.person_id, value, {"eventId": f"ct-{uuid.uuid4().hex[:20]}"})
    assert response.status_code == 400, (
        f"identifierType {value!r} ({case}) got {response.status_code}, not 400: {_describe(response)}"
    )
    assert response_errors(400, dict(response.headers), response.content) == []


def _invalid_bodies() -> list[tuple[str, dict[str, Any]]]:
    """Bodies openapi.yaml's EventRequest refuses: checked against it, so none is invalid by accident."""
    too_long = "e" * 37
    with_space = "a b"
    bodies: list[tuple[str, dict[str, Any]]] = [
        ("event-id-too-long", {"eventId": too_long}),
        ("event-id-off-pattern", {"eventId": with_space}),
        ("properties-array", {"properties": []}),
    ]
    assert all(not event_id_pattern().fullmatch(value) for value in (too_long, with_space))
    assert all(request_body_errors(body) for _, body in bodies)
    return bodies


@pytest.mark.parametrize(("case", "body"), _invalid_bodies(), ids=[case for case, _ in _invalid_bodies()])
async def test_body_the_spec_refuses_gets_400(contract_target: Target, case: str, body: dict[str, Any]) -> None:
    """A body against openapi.yaml's EventRequest, for the named person, gets 400 in the spec's envelope."""
    named = contract_target.named
    response = await _post(contract_target, named.person_id, named.identifier_type, body)
    assert response.status_code == 400, f"{case} got {response.status_code}, not 400: {_describe(response)}"
    assert response_errors(400, dict(response.headers), response.content) == []


def _body_shapes() -> list[tuple[str, Any]]:
    shapes: list[tuple[str, Any]] = [
        ("no-body", _NO_BODY),
        ("properties-null", {"properties": None}),
        ("properties-empty", {"properties": {}}),
        ("properties-absent", {}),
        ("seed-properties", {"properties": seed_properties()}),
    ]
    if LIVE is not None and LIVE.properties is not None:
        shapes.append(("known-good-properties", {"properties": dict(LIVE.properties)}))
    return shapes


@pytest.mark.parametrize(("case", "body"), _body_shapes(), ids=[case for case, _ in _body_shapes()])
async def test_body_shape_is_recorded_as_sent(contract_target: Target, case: str, body: Any) -> None:
    """201 with the properties sent (none, null and {} all record none); 400 only when the documented rule
    explains it: properties validated against the event definition, every error keyed ``properties.<field>``.
    The known-good properties (INFOBIP_PROPERTIES on live when set, else the seed's) must get 201."""
    known_good = contract_target.known_good_properties
    named = contract_target.named
    response = await _post(contract_target, named.person_id, named.identifier_type, body)
    sent = body.get("properties") if isinstance(body, dict) else None
    if response.status_code == 400 and not (sent and same_properties(sent, known_good)):
        errors = response.json()["requestError"]["serviceException"].get("validationErrors", {})
        unexplained = [key for key in errors if not key.startswith("properties.")] or ([] if errors else ["(none)"])
        assert not unexplained, (
            f"{case}: 400 not explained by the event definition (validationErrors {errors}): {_describe(response)}"
        )
        return
    assert response.status_code == 201, f"{case} got {response.status_code}, not 201: {_describe(response)}"
    assert response_errors(201, dict(response.headers), response.content) == []
    recorded = response.json().get("properties")
    assert same_properties(sent, recorded), f"{case}: 201 records properties {recorded!r}, sent {sent!r}"
