"""Security: constant-time key comparison, no credential in any log, account isolation, the admin API's exposure
warning, and no header injection through ids, credentials or echoed values."""

from __future__ import annotations

import asyncio
import base64
import hmac
import io
import logging
import re
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from people_events_client import (
    AsyncPeopleEvents,
    BasicAuth,
    BearerToken,
    IBSSOToken,
    NotFound,
    PeopleEvents,
    PeopleEventsError,
)
from people_events_mock import create_app
from people_events_mock.__main__ import main
from people_events_mock.auth import Authenticator
from people_events_mock.fixtures import CredentialFixture, default_fixtures
from people_events_mock.pytest_plugin import MockServer
from people_events_mock.testing import exposure_warning, mock_process, serve
from tests.support.facades import created

from .rawhttp import asgi_request

REPO = Path(__file__).resolve().parents[2]
CREDENTIALS: list[CredentialFixture] = [
    credential for account in default_fixtures().accounts for credential in account.credentials
]


def fixture_secrets() -> list[str]:
    """Every fixture secret, and each Basic credential as it travels (base64 of user:password)."""
    secrets = [credential.secret for credential in CREDENTIALS]
    for credential in CREDENTIALS:
        if credential.type == "Basic":
            pair = f"{credential.username}:{credential.secret}"
            secrets += [pair, base64.b64encode(pair.encode()).decode()]
    return secrets


def authorization(credential: CredentialFixture) -> str:
    if credential.type == "Basic":
        return "Basic " + base64.b64encode(f"{credential.username}:{credential.secret}".encode()).decode()
    return f"{credential.type} {credential.secret}"


# --- constant-time comparison -------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["App", "Basic", "IBSSO", "Bearer"])
def test_every_scheme_compares_every_secret_with_compare_digest_hit_or_miss(
    monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    """A right and a wrong credential cost the same hmac.compare_digest calls: one per stored credential of the
    scheme for the user and one for the secret, no early exit, and no other comparison of secrets."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        assert isinstance(a, bytes)
        assert isinstance(b, bytes)
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("people_events_mock.auth.hmac.compare_digest", spy)
    authenticator = Authenticator(default_fixtures().accounts)
    of_scheme = [credential for credential in CREDENTIALS if credential.type == scheme]
    right = authorization(of_scheme[0])
    wrong = right[:-1] + ("x" if right[-1] != "x" else "y")
    if scheme == "Basic":
        wrong = "Basic " + base64.b64encode(b"mock-user:wrong-password").decode()

    assert authenticator.authenticate([right]) is not None
    hit = list(calls)
    calls.clear()
    assert authenticator.authenticate([wrong]) is None
    miss = list(calls)

    assert len(hit) == len(miss) == 2 * len(of_scheme)
    compared = {b for _, b in hit}
    assert {credential.secret.encode() for credential in of_scheme} <= compared


def test_auth_module_compares_secrets_only_through_compare_digest() -> None:
    """No ``==`` or ``in`` on secret bytes in the authenticator: the only comparisons are compare_digest calls."""
    source = (REPO / "people_events_mock" / "auth.py").read_text()
    match = source[source.index("    def _match(") :]
    assert match.count("hmac.compare_digest(") == 2
    assert not re.search(r"secret\s*(==|!=)|(==|!=)\s*\w*secret|secret in ", match)


# --- no credential in any log ----------------------------------------------------------------------------


@pytest.fixture
def all_logs() -> Iterator[io.StringIO]:
    """Every log record of this process at DEBUG, formatted with tracebacks, whatever the logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def _traffic(base_url: str, log: logging.Logger) -> None:
    """Sends through every credential, on success, rejection and fault paths, logging each failure with its
    traceback as an application would."""

    def put(rule: dict[str, object]) -> None:
        httpx.put(f"{base_url}/_mock/faults", json=rule).raise_for_status()

    facades = [
        PeopleEvents(base_url, "mock-api-key", _sleep=lambda _: None),
        PeopleEvents(base_url, "mock-readonly-key", _sleep=lambda _: None),
        PeopleEvents(base_url, "mock-api-key-b", _sleep=lambda _: None),
        PeopleEvents(base_url, "mock-fuzz-key", _sleep=lambda _: None),
        PeopleEvents(base_url, auth=BasicAuth("mock-user", "mock-password"), _sleep=lambda _: None),
        PeopleEvents(base_url, auth=IBSSOToken("mock-ibsso-token"), _sleep=lambda _: None),
        PeopleEvents(base_url, auth=BearerToken("mock-oauth-token"), _sleep=lambda _: None),
        PeopleEvents(base_url, auth=BasicAuth("mock-user", "mock-password-wrong"), _sleep=lambda _: None),
    ]
    for facade in facades:
        log.debug("facade %r, client %r", facade, facade.client)
        httpx.delete(f"{base_url}/_mock/faults").raise_for_status()  # a rejected request leaves its fault unused
        for fault in ["500", "reset", "html-502", "empty-429", "reset-after-store", None]:
            if fault is not None:
                put({"fault": fault, "next": 1})
            try:
                facade.send("1001", "addToCart", identifier_type="ID", properties={"totalCost": 1})
                facade.send("nobody", "addToCart", identifier_type="ID")
            except PeopleEventsError as err:
                log.exception("send failed: %s (%r)", err, err)
        facade.close()

    async def async_sends() -> None:
        httpx.delete(f"{base_url}/_mock/faults").raise_for_status()
        async with AsyncPeopleEvents(base_url, "mock-api-key", _sleep=_no_wait) as people:
            put({"fault": "reset", "next": 1})
            try:
                await people.send("1001", "addToCart", identifier_type="ID")
                await people.send("1001", "nope", identifier_type="ID")
            except PeopleEventsError:
                log.exception("async send failed")

    asyncio.run(async_sends())
    # Credentials that cannot be sent at all: refused before any I/O, with a message that hides them.
    for bad in ["mock-api-key\r\nX-Injected: 1", "mock-api-kéy"]:
        try:
            PeopleEvents(base_url, bad)
        except ValueError:
            log.exception("construction refused")


async def _no_wait(_: float) -> None:
    return None


@pytest.mark.slow
def test_no_credential_appears_in_any_log_of_a_run(
    all_logs: io.StringIO, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A run at DEBUG everywhere: the mock as its own process (`--log-level debug`: uvicorn and the access log)
    and in a thread (uvicorn at debug), and the client (every logger of this process, tracebacks included). No
    fixture secret, nor a Basic credential's base64, appears anywhere."""
    log = logging.getLogger("tests.reliability.application")
    process_log = tmp_path / "mock.log"
    with mock_process(log_level="debug", log_path=process_log) as mock:
        _traffic(mock.base_url, log)
    with serve(create_app(), log_level="debug") as base_url:
        _traffic(base_url, log)
    captured = capfd.readouterr()
    texts = {
        "mock process log": process_log.read_text(errors="replace"),
        "this process's log records": all_logs.getvalue(),
        "stdout and stderr": captured.out + captured.err,
    }
    # The capture is real: each source holds what it should.
    assert "POST /peopleevents/2/persons/<redacted>/definitions/addToCart/events 201" in texts["mock process log"]
    assert "Uvicorn running on http://127.0.0.1" in texts["mock process log"]
    assert "people_events_client: attempt 2/4 -> 201" in texts["this process's log records"]
    assert "Traceback" in texts["this process's log records"]
    assert "httpx" in texts["this process's log records"]
    assert "people_events_mock: POST /peopleevents/2/persons/<redacted>" in texts["this process's log records"]
    assert "Started server process" in texts["stdout and stderr"]
    for name, text in texts.items():
        for secret in fixture_secrets():
            assert secret not in text, f"{secret!r} is in the {name}"


# --- account isolation ---------------------------------------------------------------------------------


def _events(base_url: str, **filters: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = httpx.get(f"{base_url}/_mock/events", params=filters).json()["events"]
    return events


def test_account_b_cannot_send_to_account_a_persons(people_events_mock: MockServer) -> None:
    """B's credentials get a 404 for a person only A has, exactly as for a person nobody has, and nothing is
    stored in A (nor in B)."""
    base_url = people_events_mock.base_url
    created = httpx.post(f"{base_url}/_mock/persons",
                         json={"account": "A", "identifierType": "EXTERNAL_ID", "personId": "only-in-a"})  # fmt: skip
    assert created.status_code == 201
    b = PeopleEvents(base_url, "mock-api-key-b")
    with pytest.raises(NotFound) as to_a_person:
        b.send("only-in-a", "addToCart", identifier_type="EXTERNAL_ID", event_id="b-1")
    with pytest.raises(NotFound) as to_nobody:
        b.send("nobody-at-all", "addToCart", identifier_type="EXTERNAL_ID", event_id="b-2")
    assert to_a_person.value.response is not None
    assert to_nobody.value.response is not None
    assert to_a_person.value.response.content == to_nobody.value.response.content
    assert (to_a_person.value.message_id, to_a_person.value.text) == ("NOT_FOUND", "Person not found")
    assert _events(base_url, account="A") == []
    assert _events(base_url) == []

    # createPerson from B creates B's own person; A's person and events stay untouched.
    b.send("only-in-a", "addToCart", identifier_type="EXTERNAL_ID", create_person=True, event_id="b-3")
    assert [e["account"] for e in _events(base_url)] == ["B"]
    assert _events(base_url, account="A") == []


def test_account_b_cannot_replay_account_a_event_ids(people_events_mock: MockServer) -> None:
    """Idempotency is per account: B reusing A's eventId for the same-named person stores B's own event and never
    gets A's back."""
    base_url = people_events_mock.base_url
    a_event = PeopleEvents(base_url, "mock-api-key").send(
        "1001", "addToCart", identifier_type="ID", event_id="shared-id", properties={"transactionId": "a-secret"}
    )
    b_event = PeopleEvents(base_url, "mock-api-key-b").send(
        "1001", "addToCart", identifier_type="ID", event_id="shared-id", properties={"transactionId": "b-own"}
    )
    assert b_event.to_dict()["properties"] == {"transactionId": "b-own"}
    assert a_event.to_dict()["properties"] == {"transactionId": "a-secret"}
    assert [e["properties"] for e in _events(base_url, account="A")] == [{"transactionId": "a-secret"}]
    assert [e["properties"] for e in _events(base_url, account="B")] == [{"transactionId": "b-own"}]


# --- the admin API is test-only, and binding beyond loopback warns ---------------------------------------


def test_admin_api_is_documented_as_test_only() -> None:
    testing_md = (REPO / "TESTING.md").read_text()
    assert "## The admin API is for tests only" in testing_md
    assert "test-only" in (REPO / "people_events_mock" / "admin.py").read_text()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "10.1.2.3", "2001:db8::1", "mock.example.org"])
def test_exposure_warning_names_the_address(host: str) -> None:
    warning = exposure_warning(host)
    assert warning is not None
    assert host in warning
    assert "admin API" in warning


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_has_no_exposure_warning(host: str) -> None:
    assert exposure_warning(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
def test_cli_prints_the_warning_naming_the_address(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    """`python -m people_events_mock --host H` warns on stderr before serving (uvicorn.run patched: no bind)."""
    served: dict[str, Any] = {}
    monkeypatch.setattr("people_events_mock.__main__.uvicorn.run", lambda app, **options: served.update(options))
    assert main(["--host", host, "--port", "8080"]) == 0
    assert served["host"] == host
    err = capsys.readouterr().err
    assert f"binding {host}, beyond loopback" in err
    assert "/_mock" in err


def test_cli_offers_no_trace_log_level(capsys: pytest.CaptureFixture[str]) -> None:
    """uvicorn's trace level logs every ASGI scope, request headers (credentials) included: the CLI refuses it."""
    with pytest.raises(SystemExit) as exited:
        main(["--log-level", "trace"])
    assert exited.value.code == 2
    assert "invalid choice: 'trace'" in capsys.readouterr().err


class _RefusingSocket:
    """Stands in for socket.socket in testing.serve: refuses to bind, so no interface is ever exposed."""

    def __init__(self, *args: object) -> None:
        pass

    def setsockopt(self, *args: object) -> None:
        pass

    def bind(self, address: object) -> None:
        raise OSError("tests never bind beyond loopback")


def test_serve_prints_the_warning_naming_the_address(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("people_events_mock.testing.socket.socket", _RefusingSocket)
    with pytest.raises(OSError, match="never bind"), serve(create_app(), host="0.0.0.0"):
        pass
    assert "binding 0.0.0.0, beyond loopback" in capsys.readouterr().err


# --- no header injection -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "person_id", ["a\r\nX-Injected: 1", "\r\n\r\nGET / HTTP/1.1", "a b?c#d", "\n", "a%0D%0Ab"], ids=repr
)
def test_client_percent_encodes_crlf_and_delimiters_in_ids(person_id: str) -> None:
    """An id with CR, LF, space, ``?`` or ``#`` travels percent-encoded: the request line stays one line."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return created(request)

    people = PeopleEvents("https://api.example.com", "k", rate_limit=None,
                          http_client_args={"transport": httpx.MockTransport(record)})  # fmt: skip
    people.send(person_id, "addToCart", identifier_type="EXTERNAL_ID")
    target = seen[0].url.raw_path
    assert re.fullmatch(rb"[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]+", target), target
    assert target.count(b"?") == 1
    assert seen[0].url.params["identifierType"] == "EXTERNAL_ID"


def test_crlf_person_id_is_stored_as_sent_over_http(people_events_mock: MockServer) -> None:
    """Through the served mock: the id with CR LF is one person, created and stored as given; nothing injected."""
    people = PeopleEvents(people_events_mock.base_url, "mock-api-key")
    people.send("a\r\nX-Injected: 1", "addToCart", identifier_type="EXTERNAL_ID", create_person=True)
    (stored,) = _events(people_events_mock.base_url)
    assert stored["person"]["personId"] == "a\r\nX-Injected: 1"


@pytest.mark.parametrize(
    "make",
    [
        lambda: PeopleEvents("https://api.example.com", "key\r\nX-Injected: 1"),
        lambda: PeopleEvents("https://api.example.com", "key\nX-Injected: 1"),
        lambda: PeopleEvents("https://api.example.com", "key\x00"),
        lambda: PeopleEvents("https://api.example.com", "kéy"),
        lambda: PeopleEvents("https://api.example.com", auth=IBSSOToken("tok\r\nX-Injected: 1")),
        lambda: PeopleEvents("https://api.example.com", auth=BearerToken("tok\rX-Injected: 1")),
        lambda: AsyncPeopleEvents("https://api.example.com", "key\r\nX-Injected: 1"),
    ],
    ids=["app-crlf", "app-lf", "app-nul", "app-non-ascii", "ibsso-crlf", "bearer-cr", "async-app-crlf"],
)
def test_credentials_with_control_characters_are_refused_before_any_io(make: Any) -> None:
    """A credential that would inject a header is refused when the facade is built; the message hides it."""
    with pytest.raises(ValueError, match="printable ASCII") as caught:
        make()
    chain: list[BaseException] = []
    error: BaseException | None = caught.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    texts = [line for error in chain for line in traceback.format_exception_only(error)] + [repr(caught.value)]
    for text in texts:
        assert "X-Injected" not in text
        assert not re.search(r"\bkey\b|\bk[eé]y|tok", text), text


def test_basic_auth_with_crlf_in_the_password_is_safe_as_base64() -> None:
    people = PeopleEvents("https://api.example.com", auth=BasicAuth("user", "pass\r\nX-Injected: 1"))
    assert people.client.token.startswith("Basic ")
    assert "\r" not in people.client.token


def test_httpx_refuses_a_header_value_with_crlf(people_events_mock: MockServer) -> None:
    """Below the facade, httpx (h11) will not send a header value holding CR LF: nothing reaches the server."""
    url = f"{people_events_mock.base_url}/peopleevents/2/persons/1001/definitions/addToCart/events"
    with pytest.raises(httpx.LocalProtocolError):
        httpx.post(url, params={"identifierType": "ID"}, headers={"Authorization": "App mock-api-key\r\nX-Injected: 1"})
    assert _events(people_events_mock.base_url) == []


SEND_PATH = b"/peopleevents/2/persons/1001/definitions/addToCart/events"
ECHO_HEADERS = {"content-type", "content-length", "www-authenticate", "retry-after", "allow"}


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("x-mock-fault", "500\r\nX-Injected: 1"),
        ("x-mock-fault", "html-502\r\nSet-Cookie: session=stolen"),
        ("x-mock-fault", "delay=1\nX-Injected: 1"),
        ("x-mock-fault", "500;times=1\r\nX-Injected: 1"),
        ("x-mock-fault", "X-Injected: 1"),
        ("x-mock-fault", "html-502"),
        ("x-mock-fault", "empty-429"),
        ("x-mock-fault", "500-after-store"),
        ("authorization", "App mock-api-key\r\nX-Injected: 1"),
        ("content-type", "application/json\r\nX-Injected: 1"),
        ("x-injected-probe", "X-Injected: 1"),
    ],
)
async def test_mock_never_reflects_request_values_into_response_headers(header: str, value: str) -> None:
    """In-process (where a raw CR LF can reach the app): the response has only the mock's own headers, none
    holds CR or LF, and no value comes from the request."""
    app = create_app()
    headers = [(b"authorization", b"App mock-api-key"), (b"content-type", b"application/json")]
    headers = [(name, v) for name, v in headers if name.decode() != header] + [(header.encode(), value.encode())]
    body = b'{"eventId": "echo-1"}'
    headers.append((b"content-length", str(len(body)).encode()))
    response = await asgi_request(app, "POST", SEND_PATH, b"identifierType=ID", headers, body)
    names = {name for name, _ in response.headers}
    assert names <= ECHO_HEADERS, names
    for _, header_value in response.headers:
        assert "\r" not in header_value
        assert "\n" not in header_value
        assert "Injected" not in header_value
        assert "stolen" not in header_value
        assert value not in header_value
