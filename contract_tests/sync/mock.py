"""The reference mock follows openapi.yaml: a fresh mock, in-process."""

from __future__ import annotations

import asyncio
import uuid
from functools import cache
from typing import Any, Final

import httpx

from ..spec import event_path, identifier_types, response_errors, seed_request_example, seed_response_example
from .core import Check, Drift, mock_package, mock_source

__all__ = ["MOCK_CHECKS"]

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
                    event_path(person_id, str(seed_response_example()["definitionId"])),
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
    file = mock_source("store", "StoredEvent")
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
            mock_source("validation"),
            f"the reference mock answers {wrong} for an unknown person of these documented identifier types, "
            "not 404: it must accept every identifierType openapi.yaml documents",
        )
    ]


def _mock_errors_are_envelopes() -> list[Drift]:
    answers = [a for key, a in _mock_answers().items() if key.startswith("unknown:") and a.status_code == 404]
    problems = sorted({problem for answer in answers for problem in _problems(answer)})
    return [Drift(mock_source("errors"), f"the reference mock's 404 does not follow openapi.yaml: {problems}")] * bool(
        problems
    )


MOCK_CHECKS: Final = (
    Check("mock-creates-the-seed-event", _mock_creates_the_seed_event, mock_package),
    Check("mock-knows-every-identifier-type", _mock_knows_every_identifier_type, mock_package),
    Check("mock-errors-are-envelopes", _mock_errors_are_envelopes, mock_package),
)
