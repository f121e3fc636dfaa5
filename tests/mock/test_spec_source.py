"""openapi.yaml is the mock's source: change a copy of the spec, point the mock at it, and the mock follows with
no other edit (identifier types, id lengths, the eventId pattern, the body limit, messageIds)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from people_events_mock import create_app
from people_events_mock.spec import SEND_EVENT_TEMPLATE, SpecError, default_spec, load_spec
from people_events_mock.testing import mock_process
from tests.support.mock_api import APP_AUTH, event_path
from tests.support.spec import SPEC_PATH
from tests.support.spec import load_spec as load_spec_document


@pytest.fixture
def spec_copy(tmp_path: Path) -> Callable[[Callable[[dict[str, Any]], None]], Path]:
    """Write a copy of openapi.yaml changed by `change`; return its path."""

    def write(change: Callable[[dict[str, Any]], None]) -> Path:
        document = yaml.safe_load(SPEC_PATH.read_text("utf-8"))
        change(document)
        path = tmp_path / "openapi.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return write


def _operation(document: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][SEND_EVENT_TEMPLATE]["post"]
    return operation


async def _send(
    client: httpx.AsyncClient, identifier_type: str, person: str = "new-channel-1", **kwargs: Any
) -> httpx.Response:
    return await client.post(f"{event_path(person)}?identifierType={identifier_type}", headers=APP_AUTH, **kwargs)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock")


def test_the_packaged_facts_are_the_specs() -> None:
    document = load_spec_document()
    facts = default_spec()
    assert list(facts.identifier_types) == document["components"]["schemas"]["IdentifierType"]["enum"]
    assert facts.max_body_bytes == _operation(document)["requestBody"]["x-max-body-bytes"]
    assert facts.person_id_length == (1, 256)
    assert facts.required_query == {"identifierType"}
    assert facts.message_id(429) == "TOO_MANY_REQUESTS"
    assert facts.statuses[429].required_headers == {"Retry-After"}


async def test_an_identifier_type_added_to_a_copy_of_the_spec_is_accepted_with_no_other_edit(
    spec_copy: Callable[[Callable[[dict[str, Any]], None]], Path],
) -> None:
    path = spec_copy(lambda document: document["components"]["schemas"]["IdentifierType"]["enum"].append("NEW_CHANNEL"))
    person = {"account": "A", "identifierType": "NEW_CHANNEL", "personId": "new-channel-1"}
    async with _client(create_app(spec=path)) as client:
        assert (await client.post("/_mock/persons", json=person)).status_code == 201
        response = await _send(client, "NEW_CHANNEL", json={"eventId": "on-the-new-channel"})
        assert response.status_code == 201
        assert response.json()["eventId"] == "on-the-new-channel"
    async with _client(create_app()) as client:
        assert (await client.post("/_mock/persons", json=person)).status_code == 400
        assert (await _send(client, "NEW_CHANNEL")).status_code == 400


@pytest.mark.slow
def test_the_cli_follows_a_spec_and_fixtures_with_the_new_type(
    spec_copy: Callable[[Callable[[dict[str, Any]], None]], Path], tmp_path: Path
) -> None:
    """`--spec` with `--fixtures` naming a person of the new type: the served mock accepts the event."""
    path = spec_copy(lambda document: document["components"]["schemas"]["IdentifierType"]["enum"].append("NEW_CHANNEL"))
    fixtures = tmp_path / "fixtures.json"
    account = {
        "name": "A",
        "rateLimit": 10,
        "credentials": [{"type": "App", "key": "mock-api-key", "scopes": ["people:manage"]}],
        "persons": [{"identifierType": "NEW_CHANNEL", "personId": "new-channel-1"}],
        "definitions": [{"definitionId": "addToCart", "title": "Add to cart"}],
    }
    fixtures.write_text(json.dumps({"accounts": [account]}))
    with mock_process(options=["--spec", str(path), "--fixtures", str(fixtures)]) as served:
        url = f"{served.base_url}{event_path('new-channel-1')}?identifierType=NEW_CHANNEL"
        assert httpx.post(url, headers=APP_AUTH, json={}).status_code == 201


@pytest.mark.parametrize(
    ("change", "request_kwargs", "status"),
    [
        (lambda op: op["parameters"][0]["schema"].update(maxLength=8), {"person": "nine-char"}, 400),
        (lambda op: op["parameters"][0]["schema"].update(maxLength=8), {"person": "8-chars!"}, 404),
        (lambda op: op["requestBody"].update({"x-max-body-bytes": 10}), {"json": {"eventId": "e1"}}, 413),
        (lambda op: op["requestBody"].update(required=True), {}, 400),
        (
            lambda op: op["requestBody"]["content"]["application/json"]["schema"].update(
                {"$ref": "#/components/schemas/StrictEventRequest"}
            ),
            {"json": {"eventId": "lowercase"}},
            400,
        ),
    ],
    ids=["personId-maxLength-over", "personId-maxLength-within", "body-limit", "body-required", "eventId-pattern"],
)
async def test_limits_follow_the_spec(
    spec_copy: Callable[[Callable[[dict[str, Any]], None]], Path],
    change: Callable[[dict[str, Any]], None],
    request_kwargs: dict[str, Any],
    status: int,
) -> None:
    def edit(document: dict[str, Any]) -> None:
        strict = json.loads(json.dumps(document["components"]["schemas"]["EventRequest"]))
        strict["properties"]["eventId"]["pattern"] = "^[A-Z0-9-]{1,36}$"
        document["components"]["schemas"]["StrictEventRequest"] = strict
        change(_operation(document))

    async with _client(create_app(spec=spec_copy(edit))) as client:
        assert (await _send(client, "EXTERNAL_ID", **request_kwargs)).status_code == status


async def test_message_ids_come_from_the_spec_examples(
    spec_copy: Callable[[Callable[[dict[str, Any]], None]], Path],
) -> None:
    def rename(document: dict[str, Any]) -> None:
        example = _operation(document)["responses"]["401"]["content"]["application/json"]["example"]
        example["requestError"]["serviceException"]["messageId"] = "NOT_AUTHENTICATED"

    async with _client(create_app(spec=spec_copy(rename))) as client:
        response = await client.post(event_path() + "?identifierType=EMAIL")
        assert response.json()["requestError"]["serviceException"]["messageId"] == "NOT_AUTHENTICATED"


@pytest.mark.parametrize(
    "text",
    [
        "openapi: 3.1.0\npaths: {}\n",
        "- a list\n",
        "key: [unclosed\n",
        "openapi: 3.1.0\npaths:\n  " + SEND_EVENT_TEMPLATE + ":\n    post: {}\n",
    ],
    ids=["no-operation", "not-a-mapping", "bad-yaml", "operation-without-facts"],
)
def test_a_spec_without_the_facts_is_a_spec_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text(text)
    with pytest.raises(SpecError):
        load_spec(path)
