"""The HTTP edge over real sockets: smuggling, timeouts, the connection cap, versions, targets, encodings, aborts.

Each test talks raw bytes to a mock served on 127.0.0.1 (in a thread, or as its own process where limits or
timing must not share this process), and checks what the server did through its admin API.
"""

from __future__ import annotations

import gzip
import json
import logging
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from people_events_mock import create_app, mock_state
from people_events_mock.testing import mock_process, read_events, serve
from tests.support.mock_api import API_KEY, event_path
from tests.support.rawhttp import parse_response, socket_exchange

SEND = event_path() + "?identifierType=EMAIL"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Starlette, tuple[str, int]]]:
    """One mock in a thread for the module: its app and (host, port)."""
    app = create_app()
    with serve(app) as base_url:
        host, port = base_url.removeprefix("http://").rsplit(":", 1)
        yield app, (host, int(port))


@pytest.fixture
def mock(served: tuple[Starlette, tuple[str, int]]) -> tuple[str, int]:
    """The module's mock, reset: its (host, port)."""
    app, address = served
    mock_state(app).reset()
    return address


def _request(target: str, body: bytes = b"", *, version: str = "HTTP/1.1", extra: str = "") -> bytes:
    return (
        f"POST {target} {version}\r\nHost: 127.0.0.1\r\nAuthorization: App {API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n"
    ).encode() + body


def _stored(mock: tuple[str, int], **filters: str) -> list[dict[str, object]]:
    events: list[dict[str, object]] = httpx.get(
        f"http://{mock[0]}:{mock[1]}/_mock/events", params=filters, timeout=10
    ).json()["events"]
    return events


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the peer closed `sock` (reading and discarding), or None if it stayed open `seconds`."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - started < seconds:
        try:
            if not sock.recv(65536):
                return time.monotonic() - started
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return None


# --- smuggling ----------------------------------------------------------------------------------------------


def test_content_length_with_transfer_encoding_is_400_and_closes(mock: tuple[str, int]) -> None:
    """RFC 9112 §6.3: both framings at once is refused, the connection closed, and a request smuggled in the
    body never runs (it would have stored event "smuggled")."""
    smuggled = _request(SEND, b'{"eventId": "smuggled"}').replace(b"Connection: close\r\n", b"")
    first = (
        f"POST {SEND} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: App {API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ).encode()
    with socket.create_connection(mock, timeout=10) as sock:
        sock.sendall(first + smuggled)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    response = parse_response(received)
    assert response.status == 400
    assert response.json()["requestError"]["serviceException"]["messageId"] == "BAD_REQUEST"
    assert response.header("connection") == "close"
    assert received.count(b"HTTP/1.1 ") == 1, "only one response: the smuggled request never ran"
    assert _stored(mock) == []


# --- timeouts ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_stalled_and_idle_connections_are_closed_within_the_timeouts() -> None:
    """--header-timeout 1: a head trickled a byte at a time is closed after about 1 s however it trickles, and so
    is a connection that sends nothing; --keep-alive-timeout 1 closes a quiet keep-alive connection."""
    options = ["--header-timeout", "1", "--keep-alive-timeout", "1"]
    with mock_process(options=options) as served_mock:
        address = ("127.0.0.1", served_mock.port)
        with socket.create_connection(address, timeout=10) as trickler, socket.create_connection(address) as silent:
            started = time.monotonic()
            closed_at = None
            for byte in b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100:
                try:
                    trickler.sendall(bytes([byte]))
                except OSError:
                    closed_at = time.monotonic() - started
                    break
                if _closed_within(trickler, 0.1) is not None:
                    closed_at = time.monotonic() - started
                    break
            assert closed_at is not None
            assert 0.8 <= closed_at <= 5.0, closed_at
            assert _closed_within(silent, 5.0) is not None
        with httpx.Client(base_url=served_mock.base_url) as client:
            assert client.get("/_mock/health").status_code == 200
            time.sleep(2.5)
            assert client.get("/_mock/health").status_code == 200  # a new connection: the old one was closed
        log = served_mock.log_path.read_text()
        assert "Traceback" not in log


def _trickle_until_closed(sock: socket.socket, data: bytes, interval: float) -> float | None:
    """Send `data` a byte every `interval` seconds; seconds until the peer closed `sock`, or None if it never did."""
    started = time.monotonic()
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return time.monotonic() - started
        if _closed_within(sock, interval) is not None:
            return time.monotonic() - started
    return None


@pytest.mark.slow
def test_stalled_and_trickled_bodies_are_408_and_closed_within_the_body_timeout() -> None:
    """--body-timeout 1: a body half-sent then stalled gets a JSON 408 and the connection is closed after about
    1 s, and so is a body trickled a byte every 0.2 s (the deadline is a total, not per read). Neither stores
    anything, each logs one INFO line, and the server answers a normal send afterwards."""
    head = _request(SEND).replace(b"Content-Length: 0", b"Content-Length: 1000")
    with mock_process(options=["--body-timeout", "1"], log_level="info") as served_mock:
        address = ("127.0.0.1", served_mock.port)
        with socket.create_connection(address, timeout=10) as stalled:
            stalled.sendall(head + b'{"eventId": "stalled", "properties": ')
            started = time.monotonic()
            received = b""
            while chunk := stalled.recv(65536):
                received += chunk
            closed_at = time.monotonic() - started
        assert 0.8 <= closed_at <= 5.0, closed_at
        response = parse_response(received)
        assert response.status == 408
        assert response.json()["requestError"]["serviceException"]["messageId"] == "REQUEST_TIMEOUT"
        assert response.header("connection") == "close"

        with socket.create_connection(address, timeout=10) as trickler:
            trickler.sendall(head)
            trickle_closed_at = _trickle_until_closed(trickler, b'{"eventId": "trickled",' + b" " * 7, 0.2)  # 6 s
        assert trickle_closed_at is not None
        assert 0.8 <= trickle_closed_at <= 5.0, trickle_closed_at

        assert read_events(served_mock.base_url) == []
        normal = httpx.post(
            served_mock.base_url + SEND,
            json={"eventId": "after"},
            headers={"Authorization": f"App {API_KEY}"},
            timeout=10,
        )
        assert normal.status_code == 201
        assert [event["eventId"] for event in read_events(served_mock.base_url)] == ["after"]
        lines = [line for line in served_mock.log_path.read_text().splitlines() if " people_events_mock: POST " in line]
        assert len(lines) == 3, lines
        assert sum("408 (answered by the HTTP server)" in line for line in lines) == 2, lines
        assert "Traceback" not in served_mock.log_path.read_text()


def _read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length body, read from `sock`."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


@pytest.mark.slow
def test_body_timeout_never_cuts_work_after_the_body_or_a_pipelined_request_waiting_its_turn() -> None:
    """--body-timeout 1: a send whose `delay=1500` fault runs after its complete body still gets its 201. A
    request pipelined behind a delayed one, its body unfinished past 1 s from its head, is not cut while it waits:
    its term starts when it runs, and the rest of its body sent 0.4 s later gets its 201."""
    delayed = _request(SEND, b'{"eventId": "delayed"}', extra="X-Mock-Fault: delay=1200\r\n")
    pipelined = _request(SEND, b'{"eventId": "pipelined"}')
    with mock_process(options=["--body-timeout", "1"]) as served_mock:
        started = time.monotonic()
        response = httpx.post(
            served_mock.base_url + SEND,
            json={"eventId": "alone"},
            headers={"Authorization": f"App {API_KEY}", "X-Mock-Fault": "delay=1500"},
            timeout=10,
        )
        assert response.status_code == 201
        assert time.monotonic() - started >= 1.5

        with socket.create_connection(("127.0.0.1", served_mock.port), timeout=10) as sock:
            sock.sendall(delayed.replace(b"Connection: close\r\n", b"") + pipelined[:-10])
            first = _read_response(sock)  # after 1.2 s: past 1 s from the pipelined request's head
            time.sleep(0.4)
            sock.sendall(pipelined[-10:])
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        assert first.startswith(b"HTTP/1.1 201 "), first
        assert received.startswith(b"HTTP/1.1 201 "), received
        stored = [event["eventId"] for event in read_events(served_mock.base_url)]
        assert stored == ["alone", "delayed", "pipelined"]


# --- the connection cap --------------------------------------------------------------------------------------


def _lower_open_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


@pytest.mark.slow
def test_1100_idle_connections_under_1024_files_leave_health_answering() -> None:
    """Under `ulimit -n 1024` (soft and hard), 1,100 idle connections: the cap (1024 - 64) closes the longest
    idle ones to make room, so /_mock/health still answers at once; the server never runs out of descriptors
    and warns at most once per 10 s instead of logging a storm."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1300:
        pytest.skip(f"this process may open only {hard} files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1300), hard))
    idle: list[socket.socket] = []
    try:
        with mock_process(preexec_fn=_lower_open_files, options=["--header-timeout", "60"]) as served_mock:
            for _ in range(1100):
                idle.append(socket.create_connection(("127.0.0.1", served_mock.port), timeout=10))
            started = time.monotonic()
            response = httpx.get(f"{served_mock.base_url}/_mock/health", timeout=10)
            assert response.status_code == 200
            assert time.monotonic() - started < 5
            open_files = len(list(Path(f"/proc/{served_mock.pid}/fd").iterdir()))
            assert open_files <= 1024
            log = served_mock.log_path.read_text()
        assert "out of system resource" not in log
        assert "Traceback" not in log
        assert 1 <= log.count("connection cap of 960 reached") <= 3
    finally:
        for sock in idle:
            sock.close()


# --- request line, target and headers -------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["HTTP/2.0", "HTTP/1.2", "HTTP/3.0", "HTTP/0.9"])
def test_unsupported_http_version_is_505(mock: tuple[str, int], version: str) -> None:
    response = socket_exchange(*mock, _request(SEND, b"{}", version=version))
    assert response.status == 505
    assert response.json()["requestError"]["serviceException"]["messageId"] == "HTTP_VERSION_NOT_SUPPORTED"
    assert _stored(mock) == []


def test_http_1_0_is_served(mock: tuple[str, int]) -> None:
    assert socket_exchange(*mock, _request(SEND, b"{}", version="HTTP/1.0")).status == 201


def test_absolute_form_target_is_served(mock: tuple[str, int]) -> None:
    """RFC 9112 §3.2.2: a server must accept absolute-form targets; the path and query are what count."""
    target = f"http://127.0.0.1:{mock[1]}{SEND}"
    response = socket_exchange(*mock, _request(target, b'{"eventId": "absolute"}'))
    assert response.status == 201
    assert [event["eventId"] for event in _stored(mock)] == ["absolute"]


def test_absolute_form_authority_counts_as_the_host_for_the_admin_api(mock: tuple[str, int]) -> None:
    request = b"GET http://attacker.example/_mock/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert socket_exchange(*mock, request).status == 403


def test_two_content_types_are_400(mock: tuple[str, int]) -> None:
    request = _request(SEND, b"{}", extra="Content-Type: text/plain\r\n")
    response = socket_exchange(*mock, request)
    assert response.status == 400
    assert "Content-Type" in response.json()["requestError"]["serviceException"]["validationErrors"]


def test_gzip_body_is_415_not_a_json_error(mock: tuple[str, int]) -> None:
    body = gzip.compress(json.dumps({"eventId": "zipped"}).encode())
    response = socket_exchange(*mock, _request(SEND, body, extra="Content-Encoding: gzip\r\n"))
    assert response.status == 415
    assert "Content-Encoding" in response.json()["requestError"]["serviceException"]["text"]
    assert _stored(mock) == []


def test_identity_encoding_is_accepted(mock: tuple[str, int]) -> None:
    assert socket_exchange(*mock, _request(SEND, b"{}", extra="Content-Encoding: identity\r\n")).status == 201


def test_invalid_percent_escape_is_400_and_distinct_from_its_encoding(mock: tuple[str, int]) -> None:
    """`a%zzb` is no id at all (400); `a%25zzb` is the id `a%zzb` (created here)."""
    query = "?identifierType=EXTERNAL_ID&createPerson=true"
    bad = socket_exchange(*mock, _request(event_path("a%zzb") + query, b"{}"))
    assert bad.status == 400
    assert "personId" in bad.json()["requestError"]["serviceException"]["validationErrors"]
    good = socket_exchange(*mock, _request(event_path("a%25zzb") + query, b"{}"))
    assert good.status == 201
    assert [event["person"] for event in _stored(mock)] == [{"identifierType": "EXTERNAL_ID", "personId": "a%zzb"}]


# --- logging of aborts and framing errors -----------------------------------------------------------------------


def test_client_abort_mid_upload_is_one_info_line(mock: tuple[str, int], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    head = _request(SEND).replace(b"Content-Length: 0", b"Content-Length: 1000")
    with socket.create_connection(mock, timeout=10) as sock:
        sock.sendall(head + b'{"eventId": ')
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while not any("aborted" in record.getMessage() for record in caplog.records) and time.monotonic() < deadline:
        time.sleep(0.05)
    mine = [record for record in caplog.records if record.name in ("people_events_mock", "uvicorn.error")]
    assert [record.levelname for record in mine] == ["INFO"]
    assert mine[0].getMessage().startswith("POST /peopleevents/2/persons/<redacted>/definitions/addToCart/events ")
    assert "aborted" in mine[0].getMessage()
    assert not any(record.exc_info for record in caplog.records)
    assert _stored(mock) == []


def test_bad_chunk_framing_is_400_on_the_wire_and_in_the_log(
    mock: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    head = _request(SEND).replace(b"Content-Length: 0\r\n", b"Transfer-Encoding: chunked\r\n")
    with socket.create_connection(mock, timeout=10) as sock:
        sock.sendall(head + b"5\r\n{}   \r\nzz\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert parse_response(received).status == 400
    deadline = time.monotonic() + 5
    while not any("400" in record.getMessage() for record in caplog.records) and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [record.getMessage() for record in caplog.records if record.name == "people_events_mock"]
    assert any(line.startswith("POST /peopleevents/2/persons/<redacted>/") and " 400 " in line for line in lines)
    assert not any(" 500" in line for line in lines)
    noisy = [(record.name, record.getMessage()) for record in caplog.records if record.levelno >= logging.WARNING]
    assert noisy == []


def test_absolute_form_and_odd_paths_are_masked_in_the_log(
    mock: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="people_events_mock")
    query = "?identifierType=EXTERNAL_ID&createPerson=true"
    for target in [
        f"http://127.0.0.1:{mock[1]}/peopleevents/2/persons/secret-1/definitions/addToCart/events{query}",
        f"//peopleevents/2/persons/secret-2/definitions/addToCart/events{query}",
        f"/PEOPLEEVENTS/2/Persons/secret-3/definitions/addToCart/events{query}",
        f"/x/../peopleevents/2/./persons/secret-4/definitions/addToCart/events{query}",
    ]:
        socket_exchange(*mock, _request(target, b"{}"))
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert text.count("<redacted>") >= 4
    assert "secret-" not in text
