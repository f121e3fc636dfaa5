"""401 and 403: the four auth schemes against the fixture credentials, and scopes."""

from __future__ import annotations

import base64
import hmac

import httpx
import pytest

from people_events_mock.auth import Authenticator
from people_events_mock.fixtures import default_fixtures
from people_events_mock.state import MockState
from tests.support.mock_api import Sender, event_path, service_exception
from tests.support.spec import assert_conforms


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "authorization",
    [
        "App mock-api-key",
        basic("mock-user", "mock-password"),
        "IBSSO mock-ibsso-token",
        "Bearer mock-oauth-token",
        "app mock-api-key",
        "BEARER mock-oauth-token",
        "App   mock-api-key  ",
    ],
    ids=["app", "basic", "ibsso", "bearer", "lower-case-scheme", "upper-case-scheme", "extra-spaces"],
)
async def test_each_scheme_authenticates_account_a(send: Sender, state: MockState, authorization: str) -> None:
    response = await send(auth=authorization)
    assert response.status_code == 201
    assert state.store.events()[0].person.account == "A"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "App",
        "App ",
        "App wrong-key",
        "App mock-api-key-extra",
        "App MOCK-API-KEY",
        "mock-api-key",
        "Token mock-api-key",
        "Bearer mock-api-key",
        "IBSSO mock-oauth-token",
        basic("mock-user", "wrong"),
        basic("wrong", "mock-password"),
        "Basic " + base64.b64encode(b"mock-user").decode(),
        "Basic not*base64",
        "Basic " + base64.b64encode(b"mock-user:mock-password").decode() + "!",
        "App " + "x" * 100_000,
        "App mock-api-key\x00",
    ],
    ids=[
        "missing",
        "empty",
        "scheme-only",
        "scheme-and-space",
        "wrong-key",
        "key-with-suffix",
        "key-wrong-case",
        "no-scheme",
        "unknown-scheme",
        "app-key-as-bearer",
        "bearer-token-as-ibsso",
        "basic-wrong-password",
        "basic-wrong-user",
        "basic-no-colon",
        "basic-not-base64",
        "basic-trailing-junk",
        "huge-value",
        "nul-byte",
    ],
)
async def test_bad_credentials_get_401(send: Sender, state: MockState, authorization: str | None) -> None:
    response = await send(auth=authorization)
    assert response.status_code == 401
    assert_conforms(response)
    assert service_exception(response)["messageId"] == "UNAUTHORIZED"
    assert "WWW-Authenticate" in response.headers
    assert state.store.events() == []


async def test_repeated_authorization_header_gets_401(client: httpx.AsyncClient) -> None:
    headers = [("Authorization", "App mock-api-key"), ("Authorization", "App mock-api-key")]
    response = await client.post(event_path() + "?identifierType=EMAIL", headers=headers)
    assert response.status_code == 401


async def test_readonly_key_gets_403(send: Sender, state: MockState) -> None:
    """The readonly key has people:read only; Send Event needs people:manage, people:use or web:sdk."""
    response = await send(auth="App mock-readonly-key")
    assert response.status_code == 403
    assert_conforms(response)
    assert service_exception(response)["messageId"] == "FORBIDDEN"
    assert state.store.events() == []


@pytest.mark.parametrize("scope", ["people:manage", "people:use", "web:sdk"])
def test_any_send_event_scope_is_enough(scope: str) -> None:
    from people_events_mock.auth import Principal

    assert Principal(account="A", scheme="App", scopes=frozenset({scope})).may_send_events


def test_people_read_scope_is_not_enough() -> None:
    from people_events_mock.auth import Principal

    assert not Principal(account="A", scheme="App", scopes=frozenset({"people:read"})).may_send_events


def test_authenticator_maps_each_key_to_its_account() -> None:
    authenticator = Authenticator(default_fixtures().accounts)
    accounts = {
        key: principal.account if (principal := authenticator.authenticate([f"App {key}"])) else None
        for key in ["mock-api-key", "mock-readonly-key", "mock-api-key-b", "mock-fuzz-key"]
    }
    assert accounts == {"mock-api-key": "A", "mock-readonly-key": "A", "mock-api-key-b": "B", "mock-fuzz-key": "F"}


def test_secrets_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every credential of the scheme is compared with hmac.compare_digest, even after a match."""
    calls: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def recording_compare(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr("people_events_mock.auth.hmac.compare_digest", recording_compare)
    authenticator = Authenticator(default_fixtures().accounts)
    assert authenticator.authenticate(["App mock-api-key"]) is not None
    app_credentials = sum(
        credential.type == "App" for account in default_fixtures().accounts for credential in account.credentials
    )
    assert len(calls) == 2 * app_credentials


def test_principal_and_credentials_never_show_secrets() -> None:
    authenticator = Authenticator(default_fixtures().accounts)
    principal = authenticator.authenticate(["App mock-api-key"])
    texts = [repr(principal), repr(default_fixtures()), repr(authenticator._entries)]
    for text in texts:
        for secret in ["mock-api-key", "mock-password", "mock-ibsso-token", "mock-oauth-token", "mock-fuzz-key"]:
            assert secret not in text
