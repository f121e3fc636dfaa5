"""One log line per request: method, path with the person id redacted, status, latency; never credentials."""

from __future__ import annotations

import base64
import logging
import re

import httpx
import pytest

from people_events_mock.paths import redact_path
from tests.support.mock_api import Sender

SECRETS = ["mock-api-key", "mock-user", "mock-password", "mock-ibsso-token", "mock-oauth-token", "mock-readonly-key"]


async def test_one_line_per_request_with_status_and_latency(send: Sender, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="people_events_mock")
    await send()
    await send(identifier_type="email")
    lines = [record.getMessage() for record in caplog.records if record.name == "people_events_mock"]
    pattern = r"POST /peopleevents/2/persons/<redacted>/definitions/addToCart/events {status} \d+\.\dms"
    assert len(lines) == 2
    assert re.fullmatch(pattern.format(status=201), lines[0])
    assert re.fullmatch(pattern.format(status=400), lines[1])


async def test_logs_never_hold_person_ids_or_credentials(
    send: Sender, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    basic = "Basic " + base64.b64encode(b"mock-user:mock-password").decode()
    for auth in [
        "App mock-api-key",
        basic,
        "IBSSO mock-ibsso-token",
        "Bearer mock-oauth-token",
        "App mock-readonly-key",
    ]:
        await send(auth=auth, person_id="jane.doe%40example.com")
    await send(person_id="secret-person", query="identifierType=EMAIL&createPerson=true")
    await client.get("/_mock/events", params={"personId": "secret-person"})
    text = "\n".join(record.getMessage() for record in caplog.records if not record.name.startswith("httpx"))
    assert "<redacted>" in text
    assert "jane.doe" not in text
    assert "secret-person" not in text
    for secret in SECRETS:
        assert secret not in text
    assert base64.b64encode(b"mock-user:mock-password").decode() not in text


async def test_dropped_connection_is_logged_as_dropped(send: Sender, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="people_events_mock")
    with pytest.raises(ConnectionResetError):
        await send(headers={"X-Mock-Fault": "reset"})
    assert caplog.records[-1].getMessage().split()[2] == "dropped"


@pytest.mark.parametrize(
    ("path", "redacted"),
    [
        (
            "/peopleevents/2/persons/jane/definitions/d/events",
            "/peopleevents/2/persons/<redacted>/definitions/d/events",
        ),
        (
            "/peopleevents/2/persons/a%2Fb/definitions/d/events",
            "/peopleevents/2/persons/<redacted>/definitions/d/events",
        ),
        ("/peopleevents/2/persons/", "/peopleevents/2/persons"),
        ("/_mock/events", "/_mock/events"),
        (
            "//peopleevents/2/persons/jane/definitions/d/events",
            "/peopleevents/2/persons/<redacted>/definitions/d/events",
        ),
        ("/PeopleEvents/2/PERSONS/jane/x", "/PeopleEvents/2/PERSONS/<redacted>/x"),
        ("/peopleevents/2/%70ersons/jane/x", "/peopleevents/2/%70ersons/<redacted>/x"),
        ("/x/../peopleevents/2/./persons/jane/events", "/peopleevents/2/persons/<redacted>/events"),
        ("/peopleevents/2/persons/../persons/jane", "/peopleevents/2/persons/<redacted>"),
        ("/peopleevents/2/persons/%2e%2e/persons/jane", "/peopleevents/2/persons/<redacted>"),
    ],
)
def test_redact_path(path: str, redacted: str) -> None:
    assert redact_path(path) == redacted
