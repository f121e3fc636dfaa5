"""Construction: every option is checked before anything is built (ValueError), credentials stay secret (repr,
logs, exceptions, pickles), and the facades' small contracts (close, repr, the low-level client, proxies)."""

from __future__ import annotations

import asyncio
import logging
import math
import pickle
import socket
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from people_events_client import (
    AsyncPeopleEvents,
    BasicAuth,
    BearerToken,
    ClientClosed,
    DeadlineExceeded,
    IBSSOToken,
    PeopleEvents,
    PeopleEventsError,
    TransportError,
    redis_limiter,
)
from people_events_client.api.events import send_custom_event
from people_events_client.models import EventResponse, IdentifierType
from tests.support.facades import SEND_PATH, Driver, created, envelope
from tests.support.respx_router import API_KEY, BASE_URL
from tests.support.servers import tcp_server

FACADES = [PeopleEvents, AsyncPeopleEvents]

BAD_OPTIONS = [
    ({"deadline": math.nan}, "deadline"),
    ({"deadline": math.inf}, "deadline"),
    ({"deadline": -1}, "deadline"),
    ({"deadline": 0}, "deadline"),
    ({"deadline": "5"}, "deadline"),
    ({"deadline": True}, "deadline"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": -1}, "timeout"),
    ({"timeout": math.nan}, "timeout"),
    ({"timeout": httpx.Timeout(None)}, "timeout"),
    ({"timeout": httpx.Timeout(5.0, read=None)}, "timeout.read"),
    ({"timeout": 1e10}, "timeout"),
    ({"deadline": 1e10}, "deadline"),
    ({"max_retries": 1.5}, "max_retries"),
    ({"max_retries": -1}, "max_retries"),
    ({"max_retries": True}, "max_retries"),
    ({"rate_limit": 0}, "rate_limit"),
    ({"rate_limit": 2.5}, "rate_limit"),
    ({"rate_limit": False}, "rate_limit"),
    ({"rate_limit_key": ""}, "rate_limit_key"),
    ({"limiter": object()}, "limiter"),
    ({"allow_insecure_http": "yes"}, "allow_insecure_http"),
    ({"http_client_args": {"headers": {"X": "1"}}}, "headers"),
    ({"http_client_args": {"auth": ("u", "p")}}, "auth"),
    ({"http_client_args": {"timeout": 1}}, "timeout"),
    ({"http_client_args": {"base_url": "https://evil.example"}}, "base_url"),
    ({"http_client_args": {"follow_redirects": True}}, "follow_redirects"),
    ({"http_client_args": {"transport": httpx.MockTransport(created), "uds": "/tmp/s"}}, "either a transport"),
]


@pytest.mark.parametrize("facade_class", FACADES, ids=["sync", "async"])
@pytest.mark.parametrize(("options", "named"), BAD_OPTIONS, ids=[str(o) for o, _ in BAD_OPTIONS])
def test_invalid_options_raise_value_error(
    facade_class: type[PeopleEvents | AsyncPeopleEvents], options: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        facade_class(BASE_URL, API_KEY, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("base_url", "allow_insecure", "accepted"),
    [
        ("https://api.infobip.com", False, True),
        ("https://api.infobip.com/prefix/", False, True),
        ("http://127.0.0.1:8080", False, True),
        ("http://localhost:8080", False, True),
        ("http://[::1]:8080", False, True),
        ("http://tenant.localhost:8080", False, False),
        ("https://api.example.com/ ", False, False),
        ("https://api example.com", False, False),
        ("http://api.infobip.com", False, False),
        ("http://api.infobip.com", True, True),
        ("https://x.com?tenant=1", False, False),
        ("https://x.com/#frag", False, False),
        ("https://x.com\n", False, False),
        ("https://x.com:99999", False, False),
        ("https://user:secret@x.com", False, False),
        ("ftp://x.com", False, False),
        ("https://", False, False),
        ("api.infobip.com", False, False),
    ],
)
def test_base_url_policy(base_url: str, allow_insecure: bool, accepted: bool) -> None:
    if accepted:
        facade = PeopleEvents(base_url, API_KEY, allow_insecure_http=allow_insecure)
        assert facade.base_url == base_url.rstrip("/")
        facade.close()
    else:
        with pytest.raises(ValueError, match="base_url"):
            PeopleEvents(base_url, API_KEY, allow_insecure_http=allow_insecure)


@pytest.mark.parametrize(
    ("api_key", "auth"),
    [(None, None), ("k", BasicAuth("u", "p")), ("", None), ("line\nbreak", None), (None, BearerToken("tök"))],
    ids=["neither", "both", "empty", "control-character", "non-ascii"],
)
def test_credentials_must_be_exactly_one_printable_header(api_key: str | None, auth: BearerToken | None) -> None:
    with pytest.raises(ValueError, match=r"api_key|auth|credential") as caught:
        PeopleEvents(BASE_URL, api_key, auth=auth)
    for secret in ("line\nbreak", "tök"):
        assert secret not in str(caught.value)


@pytest.mark.parametrize(
    ("api_key", "auth", "header"),
    [
        ("k3y", None, "App k3y"),
        (None, BasicAuth("user", "pw"), "Basic dXNlcjpwdw=="),
        (None, IBSSOToken("tok"), "IBSSO tok"),
        (None, BearerToken("tok"), "Bearer tok"),
    ],
    ids=["api-key", "basic", "ibsso", "bearer"],
)
def test_auth_schemes_build_their_header(
    api: respx.MockRouter, driver: Driver, api_key: str | None, auth: BasicAuth | None, header: str
) -> None:
    api.post(SEND_PATH).mock(side_effect=created)
    driver.send(driver.facade(api_key=api_key, auth=auth))
    assert api.calls.last.request.headers["authorization"] == header


def test_default_timeouts_are_finite(api: respx.MockRouter, driver: Driver) -> None:
    api.post(SEND_PATH).mock(side_effect=created)
    driver.send(driver.facade())
    assert api.calls.last.request.extensions["timeout"] == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}


SECRETS = [
    ("api_key", "sk-live-SECRET-1"),
    ("auth", BasicAuth("user", "pw-SECRET-2")),
    ("auth", BearerToken("SECRET-3")),
]


def _secret_texts(credential: object) -> list[str]:
    if isinstance(credential, str):
        return [credential]
    if isinstance(credential, BasicAuth):
        return [credential.password, "dXNlcjpwdy1TRUNSRVQtMg=="]
    assert isinstance(credential, BearerToken)
    return [credential.token]


@pytest.mark.parametrize(("kind", "credential"), SECRETS, ids=["api-key", "basic", "bearer"])
def test_credentials_never_appear_in_reprs_logs_errors_or_pickles(
    api: respx.MockRouter,
    driver: Driver,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    credential: object,
) -> None:
    api.post(SEND_PATH).mock(
        side_effect=[httpx.Response(503), httpx.Response(401, json=envelope("UNAUTHORIZED", "Invalid login details"))]
    )
    options: dict[str, Any] = {"api_key": credential, "auth": None}
    if kind == "auth":
        options = {"api_key": None, "auth": credential}
    facade = driver.facade(**options)
    with caplog.at_level(logging.DEBUG), pytest.raises(PeopleEventsError) as caught:
        driver.send(facade)
    texts = [repr(facade), repr(facade.client), str(caught.value), repr(caught.value)]
    if not isinstance(credential, str):
        texts.append(repr(credential))
    texts += [record.getMessage() for record in caplog.records]
    texts.append(pickle.dumps(caught.value).decode("latin-1"))
    for secret in _secret_texts(credential):
        assert not [text for text in texts if secret in text]
    assert caught.value.response is not None  # kept in the process, dropped by pickling


def _errors_of_every_kind(api: respx.MockRouter, driver: Driver) -> list[PeopleEventsError]:
    outcomes: list[Any] = [
        httpx.Response(400, json=envelope("BAD_REQUEST", "bad", validationErrors={"eventId": ["too long"]})),
        httpx.Response(401),
        httpx.Response(403),
        httpx.Response(404),
        httpx.Response(415),
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(500),
        httpx.Response(201, text="<html>"),
        httpx.ConnectError("refused"),
    ]
    errors = []
    for outcome in outcomes:
        api.routes.clear()
        api.post(SEND_PATH).mock(side_effect=[outcome] * 4)
        with pytest.raises(PeopleEventsError) as caught:
            driver.send(driver.facade(max_retries=0))
        errors.append(caught.value)
    return errors


def test_every_error_pickles_without_the_credential_and_keeps_its_details(
    api: respx.MockRouter, driver: Driver
) -> None:
    errors = _errors_of_every_kind(api, driver)
    closed = driver.facade()
    driver.close(closed)
    with pytest.raises(ClientClosed) as caught:
        driver.send(closed)
    errors.append(caught.value)
    errors.append(DeadlineExceeded("d", event_id="e"))
    assert {type(e).__name__ for e in errors} >= {
        "BadRequest", "Unauthorized", "Forbidden", "NotFound", "PeopleEventsError", "RateLimited", "ServerError",
        "UnexpectedResponse", "TransportError", "ClientClosed", "DeadlineExceeded",
    }  # fmt: skip
    for error in errors:
        data = pickle.dumps(error)
        assert API_KEY.encode() not in data
        copy = pickle.loads(data)
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        for name in ("status", "message_id", "text", "validation_errors", "retry_after", "event_id", "may_be_stored"):
            assert getattr(copy, name) == getattr(error, name)
        assert copy.response is None


def test_send_after_close_raises_client_closed_and_sends_nothing(api: respx.MockRouter, driver: Driver) -> None:
    route = api.post(SEND_PATH).mock(side_effect=created)
    facade = driver.facade()
    driver.close(facade)
    driver.close(facade)  # closing twice is harmless
    with pytest.raises(ClientClosed) as caught:
        driver.send(facade, event_id="late")
    assert (caught.value.event_id, caught.value.status, caught.value.may_be_stored) == ("late", None, False)
    assert route.call_count == 0


@pytest.mark.parametrize("facade_class", FACADES, ids=["sync", "async"])
def test_repr_of_a_half_built_facade_works_in_a_traceback_with_locals(
    facade_class: type[PeopleEvents | AsyncPeopleEvents],
) -> None:
    """traceback with capture_locals calls repr() on ``self`` inside a failing __init__."""
    try:
        facade_class("https://x.com?tenant=1", API_KEY)
    except ValueError as err:
        rendered = "".join(traceback.TracebackException.from_exception(err, capture_locals=True).format())
    assert f"{facade_class.__name__}(base_url=None, rate_limit=None)" in rendered
    assert API_KEY not in rendered or "api_key = " in rendered  # the argument itself is the caller's local


def test_the_low_level_client_of_a_sync_facade_serves_the_generated_sync_and_async_calls(
    api: respx.MockRouter,
) -> None:
    api.post(SEND_PATH).mock(side_effect=created)
    people = PeopleEvents(BASE_URL, API_KEY)
    sync = send_custom_event.sync("1001", "addToCart", client=people.client, identifier_type=IdentifierType.ID)

    async def call() -> object:
        return await send_custom_event.asyncio(
            "1001", "addToCart", client=people.client, identifier_type=IdentifierType.ID
        )

    assert isinstance(sync, EventResponse)
    assert isinstance(asyncio.run(call()), EventResponse)
    assert api.calls.call_count == 2
    assert all(call.request.headers["authorization"] == f"App {API_KEY}" for call in api.calls)


def test_an_async_facade_rejects_a_sync_only_transport() -> None:
    with pytest.raises(ValueError, match="AsyncBaseTransport"):
        AsyncPeopleEvents(BASE_URL, API_KEY, http_client_args={"transport": httpx.HTTPTransport()})


@pytest.fixture
def proxy() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback 'proxy' that records the first bytes of each connection and answers 502."""
    heads: list[bytes] = []

    def refuse(conn: socket.socket, stop: threading.Event) -> None:
        heads.append(conn.recv(4096))
        conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")

    with tcp_server(refuse) as port:
        yield port, heads


@pytest.mark.parametrize("facade_class", FACADES, ids=["sync", "async"])
def test_a_proxy_variable_without_a_scheme_works_as_in_plain_httpx(
    monkeypatch: pytest.MonkeyPatch,
    proxy: tuple[int, list[bytes]],
    facade_class: type[PeopleEvents | AsyncPeopleEvents],
) -> None:
    port, heads = proxy
    monkeypatch.setenv("HTTPS_PROXY", f"127.0.0.1:{port}")  # no scheme: httpx reads it as http://
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    people = facade_class("https://api.example.invalid", API_KEY, max_retries=0, rate_limit=None)

    def send() -> object:
        if isinstance(people, PeopleEvents):
            return people.send("1001", "addToCart", identifier_type="ID")
        return asyncio.run(people.send("1001", "addToCart", identifier_type="ID"))

    with pytest.raises(TransportError):
        send()
    assert heads
    assert heads[0].startswith(b"CONNECT api.example.invalid:443 HTTP/1.1")
    with pytest.raises(httpx.ProxyError):
        httpx.post("https://api.example.invalid/x")  # plain httpx does the same with this environment
    assert heads[1].startswith(b"CONNECT api.example.invalid:443")


@pytest.mark.parametrize("url", ["redis//localhost:6379/0", "http://localhost:6379", ""])
def test_a_malformed_redis_url_is_refused_at_once(url: str) -> None:
    with pytest.raises(ValueError, match="Redis URL"):
        redis_limiter(url, rate_limit=250)


def test_a_construction_failure_never_shows_the_credential_in_a_traceback_with_locals() -> None:
    """Options are checked and the TLS context built before the Authorization value exists; where it exists, its
    repr is hidden. (The caller's own frame holds the token it passed: only the library's frames are checked.)"""
    for options in ({"timeout": 0}, {"http_client_args": {"verify": "/no/such/ca-bundle.pem"}}):
        try:
            PeopleEvents(BASE_URL, auth=BearerToken("hunter2-very-secret"), **options)
        except (ValueError, OSError) as err:
            stack = traceback.TracebackException.from_exception(err, capture_locals=True).stack
        else:
            raise AssertionError(f"{options} was accepted")
        library = [frame for frame in stack if "people_events_client" in frame.filename or "httpx" in frame.filename]
        assert library
        for frame in library:
            assert not [value for value in (frame.locals or {}).values() if "hunter2" in value]
