"""PeopleEvents over respx: typed errors from raw responses, safe retries with one eventId, and safety checks."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from people_events_client import (
    BadRequest,
    BasicAuth,
    BearerToken,
    EventResponse,
    Forbidden,
    IBSSOToken,
    IdentifierType,
    NotFound,
    PeopleEvents,
    PeopleEventsError,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)

from .conftest import API_KEY, BASE_URL, FakeClock

SEND = "/peopleevents/2/persons/1001/definitions/addToCart/events"
CREATED = {
    "eventId": "E1",
    "definitionId": "addToCart",
    "occurredTime": "2026-11-26T12:00:00.123Z",
    "properties": {"totalCost": 100},
    "metadata": {"source": "API"},
}


def envelope(message_id: str, text: str, **extra: object) -> dict[str, object]:
    return {"requestError": {"serviceException": {"messageId": message_id, "text": text, **extra}}}


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


def send(facade: PeopleEvents, **options: object) -> EventResponse:
    return facade.send("1001", "addToCart", identifier_type="ID", **options)  # type: ignore[arg-type]


def sent_bodies(api: respx.MockRouter) -> list[dict[str, object]]:
    return [json.loads(call.request.content) for call in api.calls]


def test_send_returns_the_recorded_event(api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]) -> None:
    api.post(SEND).respond(201, json=CREATED)
    event = send(make_facade(), properties={"totalCost": 100})
    assert event.event_id == "E1"
    assert event.to_dict()["properties"] == {"totalCost": 100}
    request = api.calls.last.request
    assert request.headers["Authorization"] == f"App {API_KEY}"
    assert request.url.params["identifierType"] == "ID"
    body = json.loads(request.content)
    assert body["properties"] == {"totalCost": 100}
    assert len(body["eventId"]) == 36


def test_caller_event_id_is_sent(api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]) -> None:
    api.post(SEND).respond(201, json=CREATED)
    send(make_facade(), event_id="order-1001")
    assert sent_bodies(api)[0] == {"eventId": "order-1001"}


def test_identifier_type_accepts_the_enum(api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]) -> None:
    api.post(path__startswith="/peopleevents/").respond(201, json=CREATED)
    make_facade().send("x@example.com", "addToCart", identifier_type=IdentifierType.EMAIL, create_person=True)
    assert api.calls.last.request.url.params["identifierType"] == "EMAIL"
    assert api.calls.last.request.url.params["createPerson"] == "true"


@pytest.mark.parametrize(
    ("status", "body", "error", "message_id"),
    [
        (400, envelope("BAD_REQUEST", "Bad request", validationErrors={"properties.x": ["unknown field"]}), BadRequest,
         "BAD_REQUEST"),
        (401, envelope("UNAUTHORIZED", "Unauthorized"), Unauthorized, "UNAUTHORIZED"),
        (403, envelope("FORBIDDEN", "Forbidden"), Forbidden, "FORBIDDEN"),
        (404, envelope("NOT_FOUND", "Not found"), NotFound, "NOT_FOUND"),
        (413, envelope("PAYLOAD_TOO_LARGE", "Too large"), PeopleEventsError, "PAYLOAD_TOO_LARGE"),
        (415, envelope("UNSUPPORTED_MEDIA_TYPE", "JSON only"), PeopleEventsError, "UNSUPPORTED_MEDIA_TYPE"),
        (409, b"", PeopleEventsError, None),
        (499, b"client closed", PeopleEventsError, None),
        (200, envelope("OK", "not a 201"), PeopleEventsError, "OK"),
    ],
    ids=["400", "401", "403", "404", "413", "415", "409-empty", "499-text", "200-not-201"],
)  # fmt: skip
def test_non_retryable_status_raises_its_class_after_one_attempt(
    api: respx.MockRouter,
    make_facade: Callable[..., PeopleEvents],
    status: int,
    body: object,
    error: type[PeopleEventsError],
    message_id: str | None,
) -> None:
    route = api.post(SEND)
    route.respond(status, content=body) if isinstance(body, bytes) else route.respond(status, json=body)
    with pytest.raises(error) as caught:
        send(make_facade(), event_id="evt-1")
    assert type(caught.value) is error
    assert caught.value.status == status
    assert caught.value.message_id == message_id
    assert caught.value.event_id == "evt-1"
    assert caught.value.response is not None
    assert caught.value.response.status_code == status
    assert route.call_count == 1


def test_bad_request_carries_validation_errors(api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]) -> None:
    problems = {"properties.itemsInCart[1].quantity": ["must be a number"]}
    api.post(SEND).respond(400, json=envelope("BAD_REQUEST", "Bad request", validationErrors=problems))
    with pytest.raises(BadRequest) as caught:
        send(make_facade())
    assert caught.value.validation_errors == problems
    assert caught.value.text == "Bad request"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(502, html="<html><body>Bad gateway</body></html>"),
        httpx.Response(500, content=b""),
        httpx.Response(503, json=envelope("GENERAL_ERROR", "down")),
        httpx.Response(520, content=b"cloudflare"),
        httpx.Response(500, content=b'{"requestError": ['),
    ],
    ids=["html-502", "empty-500", "503-envelope", "520-unknown-status", "truncated-json-500"],
)
def test_any_5xx_is_retried_then_raises_server_error(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], clock: FakeClock, response: httpx.Response
) -> None:
    route = api.post(SEND).mock(return_value=response)
    with pytest.raises(ServerError) as caught:
        send(make_facade())
    assert caught.value.status == response.status_code
    assert route.call_count == 4
    assert len(clock.sleeps) == 3


@pytest.mark.parametrize(
    "body",
    [b"<html>ok</html>", b"", b"[]", json.dumps({"eventId": "E1"}).encode(), b'{"eventId": "E1", "definitionId"'],
    ids=["html", "empty", "json-array", "missing-fields", "truncated"],
)
def test_malformed_201_raises_the_base_error(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], body: bytes
) -> None:
    api.post(SEND).respond(201, content=body)
    with pytest.raises(PeopleEventsError) as caught:
        send(make_facade(), event_id="evt-201")
    assert type(caught.value) is PeopleEventsError
    assert caught.value.status == 201
    assert caught.value.event_id == "evt-201"


def test_429_with_seconds_retry_after_waits_that_long(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], clock: FakeClock
) -> None:
    limited = httpx.Response(429, headers={"Retry-After": "3"}, json=envelope("TOO_MANY_REQUESTS", "slow down"))
    api.post(SEND).mock(side_effect=[limited, httpx.Response(201, json=CREATED)])
    assert send(make_facade()).event_id == "E1"
    assert clock.sleeps == [3.0]


def test_429_with_http_date_retry_after_waits_until_then(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], clock: FakeClock
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    api.post(SEND).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": when}), httpx.Response(201, json=CREATED)]
    )
    send(make_facade())
    assert 27.0 <= clock.sleeps[0] <= 30.0


def test_429_without_retry_after_backs_off_exponentially_with_jitter(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], clock: FakeClock
) -> None:
    route = api.post(SEND).respond(429, content=b"")
    with pytest.raises(RateLimited) as caught:
        send(make_facade())
    assert route.call_count == 4
    for slept, base in zip(clock.sleeps, [0.5, 1.0, 2.0], strict=True):
        assert 0.75 * base <= slept <= base
    assert caught.value.retry_after is None


def test_retry_after_is_capped(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], clock: FakeClock
) -> None:
    api.post(SEND).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "86400"}), httpx.Response(201, json=CREATED)]
    )
    send(make_facade())
    assert clock.sleeps == [60.0]


def test_503_then_success(api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]) -> None:
    api.post(SEND).mock(side_effect=[httpx.Response(503), httpx.Response(201, json=CREATED)])
    assert send(make_facade()).event_id == "E1"


def test_connection_error_is_retried_then_succeeds(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]
) -> None:
    api.post(SEND).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(201, json=CREATED)]
    )
    assert send(make_facade()).event_id == "E1"


@pytest.mark.parametrize(
    ("failure", "kind"),
    [(httpx.ConnectError("refused"), "failed"), (httpx.ReadTimeout("slow"), "timed out"),
     (httpx.RemoteProtocolError("reset"), "failed")],
    ids=["connect", "timeout", "dropped"],
)  # fmt: skip
def test_transport_failure_raises_transport_error_from_the_cause(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], failure: Exception, kind: str
) -> None:
    route = api.post(SEND).mock(side_effect=failure)
    with pytest.raises(TransportError, match=kind) as caught:
        send(make_facade(), event_id="evt-net")
    assert isinstance(caught.value.__cause__, httpx.TransportError)
    assert caught.value.status is None
    assert caught.value.event_id == "evt-net"
    assert route.call_count == 4


def test_retry_reuses_event_id(api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]) -> None:
    api.post(SEND).mock(
        side_effect=[
            httpx.Response(500),
            httpx.ConnectError("x"),
            httpx.Response(429),
            httpx.Response(201, json=CREATED),
        ]
    )
    send(make_facade())
    ids = {body["eventId"] for body in sent_bodies(api)}
    assert len(api.calls) == 4
    assert len(ids) == 1


def test_max_retries_zero_means_one_attempt(api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]) -> None:
    route = api.post(SEND).respond(503)
    with pytest.raises(ServerError):
        send(make_facade(max_retries=0))
    assert route.call_count == 1


def test_deadline_stops_retries_before_a_wait_that_would_pass_it(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], clock: FakeClock
) -> None:
    route = api.post(SEND).mock(return_value=httpx.Response(429, headers={"Retry-After": "4"}))
    with pytest.raises(RateLimited) as caught:
        send(make_facade(deadline=10.0, max_retries=10))
    assert route.call_count == 3
    assert clock.sleeps == [4.0, 4.0]
    assert caught.value.retry_after == 4.0


@pytest.mark.parametrize(
    ("person_id", "definition_id"),
    [("", "addToCart"), (".", "addToCart"), ("..", "addToCart"), ("1001", ""), ("1001", ".."),
     ("x" * 257, "addToCart"), ("1001", "d" * 37), ("\ud800", "addToCart")],
    ids=["empty-person", "dot-person", "dotdot-person", "empty-definition", "dotdot-definition",
         "person-too-long", "definition-too-long", "lone-surrogate"],
)  # fmt: skip
def test_invalid_ids_raise_value_error_before_any_io(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], person_id: str, definition_id: str
) -> None:
    with pytest.raises(ValueError, match="_id"):
        make_facade().send(person_id, definition_id, identifier_type="ID")
    assert not api.calls


def test_longest_valid_ids_are_accepted(api: respx.MockRouter, make_facade: Callable[..., PeopleEvents]) -> None:
    api.post(path__startswith="/peopleevents/").respond(201, json=CREATED)
    make_facade().send("p" * 256, "d" * 36, identifier_type="ID")
    assert len(api.calls) == 1


@pytest.mark.parametrize(
    "event_id", ["", "x" * 37, "has space", "ünïcode"], ids=["empty", "too-long", "space", "non-ascii"]
)
def test_invalid_event_id_raises_value_error(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], event_id: str
) -> None:
    with pytest.raises(ValueError, match="event_id"):
        send(make_facade(), event_id=event_id)
    assert not api.calls


def test_unknown_identifier_type_raises_value_error(make_facade: Callable[..., PeopleEvents]) -> None:
    with pytest.raises(ValueError, match="NOT_A_TYPE"):
        make_facade().send("1001", "addToCart", identifier_type="NOT_A_TYPE")


@pytest.mark.parametrize(
    ("base_url", "allow", "ok"),
    [("https://api.infobip.com", False, True), ("http://api.infobip.com", False, False),
     ("http://api.infobip.com", True, True), ("http://127.0.0.1:8080", False, True),
     ("http://localhost:8080", False, True), ("http://[::1]:8080", False, True), ("ftp://x", True, False)],
    ids=["https", "http-remote-refused", "http-remote-allowed", "http-ipv4-loopback", "http-localhost",
         "http-ipv6-loopback", "not-http"],
)  # fmt: skip
def test_base_url_scheme_policy(base_url: str, allow: bool, ok: bool) -> None:
    if ok:
        PeopleEvents(base_url, API_KEY, allow_insecure_http=allow, rate_limit=None).close()
    else:
        with pytest.raises(ValueError, match="base_url"):
            PeopleEvents(base_url, API_KEY, allow_insecure_http=allow)


def test_exactly_one_credential_is_required() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        PeopleEvents(BASE_URL)
    with pytest.raises(ValueError, match="exactly one"):
        PeopleEvents(BASE_URL, API_KEY, auth=BearerToken("t"))


@pytest.mark.parametrize(
    ("auth", "header"),
    [(BasicAuth("mock-user", "mock-password"), "Basic bW9jay11c2VyOm1vY2stcGFzc3dvcmQ="),
     (IBSSOToken("mock-ibsso-token"), "IBSSO mock-ibsso-token"),
     (BearerToken("mock-oauth-token"), "Bearer mock-oauth-token")],
    ids=["basic", "ibsso", "bearer"],
)  # fmt: skip
def test_auth_schemes_build_their_header(
    api: respx.MockRouter, clock: FakeClock, auth: BasicAuth | IBSSOToken | BearerToken, header: str
) -> None:
    api.post(SEND).respond(201, json=CREATED)
    PeopleEvents(BASE_URL, auth=auth, rate_limit=None, _sleep=clock.sleep, _clock=clock).send(
        "1001", "addToCart", identifier_type="ID"
    )
    assert api.calls.last.request.headers["Authorization"] == header


def test_default_timeouts() -> None:
    facade = PeopleEvents(BASE_URL, API_KEY)
    timeout = facade.client.get_httpx_client().timeout
    assert (timeout.connect, timeout.read) == (5.0, 30.0)


def test_one_debug_line_per_attempt(
    api: respx.MockRouter, make_facade: Callable[..., PeopleEvents], caplog: pytest.LogCaptureFixture
) -> None:
    api.post(SEND).mock(side_effect=[httpx.Response(503), httpx.Response(201, json=CREATED)])
    with caplog.at_level(logging.DEBUG, logger="people_events_client"):
        send(make_facade())
    attempts = [r for r in caplog.records if r.name == "people_events_client" and r.getMessage().startswith("attempt")]
    assert [r.getMessage() for r in attempts] == ["attempt 1/4 -> 503", "attempt 2/4 -> 201"]
    assert all(r.levelno == logging.DEBUG for r in attempts)


@pytest.mark.parametrize(
    "outcome",
    [httpx.Response(401, json=envelope("UNAUTHORIZED", "Unauthorized")), httpx.Response(429),
     httpx.Response(502, html="<h1>x</h1>"), httpx.ConnectError("refused")],
    ids=["401", "429", "502", "connect"],
)  # fmt: skip
def test_credentials_never_appear_in_repr_logs_or_exceptions(
    api: respx.MockRouter, clock: FakeClock, caplog: pytest.LogCaptureFixture, outcome: httpx.Response | Exception
) -> None:
    secrets = ["key-abc-123", "pass-xyz-789", "ibsso-tok-456", "bearer-tok-000"]
    facades = [
        PeopleEvents(BASE_URL, secrets[0], rate_limit=None, _sleep=clock.sleep, _clock=clock),
        PeopleEvents(BASE_URL, auth=BasicAuth("user", secrets[1]), rate_limit=None, _sleep=clock.sleep, _clock=clock),
        PeopleEvents(BASE_URL, auth=IBSSOToken(secrets[2]), _sleep=clock.sleep, _clock=clock),
        PeopleEvents(BASE_URL, auth=BearerToken(secrets[3]), _sleep=clock.sleep, _clock=clock),
    ]
    api.post(SEND).mock(side_effect=outcome) if isinstance(outcome, Exception) else api.post(SEND).mock(
        return_value=outcome
    )
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for facade in facades:
            texts += [repr(facade), repr(facade.client), str(facade.__dict__)]
            with pytest.raises(PeopleEventsError) as caught:
                send(facade)
            texts += [str(caught.value), repr(caught.value), repr(caught.value.args)]
    texts += [record.getMessage() for record in caplog.records]
    texts.append(repr(BasicAuth("user", secrets[1])))
    basic_header = base64.b64encode(f"user:{secrets[1]}".encode()).decode()
    for secret in [*secrets, basic_header]:
        assert not [text for text in texts if secret in text], secret
