"""The admin API refuses cross-site and rebinding requests, needs JSON bodies, takes an optional token, and streams
its bodies against their limit. Over real sockets: a browser's requests arrive exactly like these."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from people_events_mock import create_app
from people_events_mock.testing import mock_process, serve
from tests.support.mock_api import APP_AUTH, event_path

PERSON = {"account": "A", "identifierType": "EMAIL", "personId": "csrf@example.com"}


@pytest.fixture
def base_url() -> Iterator[str]:
    with serve(create_app()) as url:
        yield url


def _person_exists(base_url: str) -> bool:
    response = httpx.post(
        f"{base_url}{event_path('csrf@example.com')}?identifierType=EMAIL", headers=APP_AUTH, json={}, timeout=10
    )
    return response.status_code == 201


def test_dns_rebinding_host_cannot_read_events(base_url: str) -> None:
    httpx.post(f"{base_url}{event_path()}?identifierType=EMAIL", headers=APP_AUTH, json={"eventId": "private"})
    refused = httpx.get(f"{base_url}/_mock/events", headers={"Host": "attacker.example"})
    assert refused.status_code == 403
    assert "private" not in refused.text
    assert refused.json()["requestError"]["serviceException"]["messageId"] == "FORBIDDEN"
    port = base_url.rsplit(":", 1)[1]
    for host in [f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1"]:
        assert httpx.get(f"{base_url}/_mock/events", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1.evil.example"])
def test_foreign_origin_cannot_reset_or_add(base_url: str, origin: str) -> None:
    httpx.post(f"{base_url}{event_path()}?identifierType=EMAIL", headers=APP_AUTH, json={"eventId": "kept"})
    assert httpx.post(f"{base_url}/_mock/reset", headers={"Origin": origin}).status_code == 403
    assert httpx.post(f"{base_url}/_mock/persons", json=PERSON, headers={"Origin": origin}).status_code == 403
    assert [event["eventId"] for event in httpx.get(f"{base_url}/_mock/events").json()["events"]] == ["kept"]
    assert not _person_exists(base_url)


def test_same_machine_origin_is_allowed(base_url: str) -> None:
    assert httpx.post(f"{base_url}/_mock/reset", headers={"Origin": base_url}).status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_simple_request_content_types_cannot_add_persons(base_url: str, content_type: str) -> None:
    """A page can POST these cross-site without a preflight; the admin API takes only application/json."""
    body = b'{"account": "A", "identifierType": "EMAIL", "personId": "csrf@example.com"}'
    response = httpx.post(f"{base_url}/_mock/persons", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert not _person_exists(base_url)
    reset = httpx.post(f"{base_url}/_mock/reset", content=b"x", headers={"Content-Type": content_type})
    assert reset.status_code == 415


def test_body_without_content_type_is_refused(base_url: str) -> None:
    response = httpx.post(f"{base_url}/_mock/persons", content=b"{}", headers={"Content-Type": ""})
    assert response.status_code == 415


def test_admin_token_is_required_when_set() -> None:
    with serve(create_app(admin_token="s3cret")) as url:
        assert httpx.get(f"{url}/_mock/health").status_code == 401
        assert httpx.get(f"{url}/_mock/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(f"{url}/_mock/events", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        # The token guards the admin API only; Send Event keeps its own credentials.
        sent = httpx.post(f"{url}{event_path()}?identifierType=EMAIL", headers=APP_AUTH, json={})
        assert sent.status_code == 201


def _stream_body(port: int, head: bytes, total: int, chunk: bytes) -> tuple[bytes, int]:
    """Send `head`, then `chunk`s up to `total` bytes until the server answers or closes: (response, bytes sent)."""
    sent = 0
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        with contextlib.suppress(ConnectionError):  # the server may close once it has answered
            while sent < total and b"\r\n\r\n" not in received:
                with contextlib.suppress(BlockingIOError):
                    sent += sock.send(chunk)
                with contextlib.suppress(BlockingIOError):
                    received += sock.recv(65536)
                time.sleep(0.0005)
        sock.settimeout(10)
        with contextlib.suppress(OSError):
            while more := sock.recv(65536):
                received += more
    return received, sent


@pytest.mark.slow
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_60_mb_admin_body_is_refused_without_growing_memory(framing: str) -> None:
    """POST /_mock/persons with a 60 MB body: 413 after at most about 1 MB is read, and the server's RSS, sampled
    throughout, grows by under 30 MB."""
    with mock_process() as served_mock:
        process = psutil.Process(served_mock.pid)
        before = process.memory_info().rss
        peak = before
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, process.memory_info().rss)
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        total = 60 * 1024 * 1024
        if framing == "chunked":
            framing_header = b"Transfer-Encoding: chunked\r\n"
            chunk = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
        else:
            framing_header = b"Content-Length: %d\r\n" % total
            chunk = b" " * 65536
        head = (
            b"POST /_mock/persons HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + framing_header
            + b"\r\n"
        )
        try:
            received, sent = _stream_body(served_mock.port, head, total, chunk)
        finally:
            stop.set()
            sampler.join()
        assert received.startswith(b"HTTP/1.1 413 "), received[:200]
        assert b"PAYLOAD_TOO_LARGE" in received
        assert peak - before < 30 * 1024 * 1024, f"RSS grew {(peak - before) / 2**20:.1f} MiB"
        assert sent < total, "the server answered before the whole body was sent"
        assert httpx.get(f"{served_mock.base_url}/_mock/health").status_code == 200
