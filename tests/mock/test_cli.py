"""`python -m people_events_mock`: options, the exposure warning, one-line errors, and a real start."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from people_events_mock.__main__ import _parser, main
from people_events_mock.state import mock_state


@pytest.fixture
def uvicorn_run(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Captures the server main() would run (its config and bound address) instead of serving."""
    captured: dict[str, Any] = {}

    def fake_run(server: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        captured["app"] = server.config.app
        captured["config"] = server.config
        assert sockets is not None
        captured["host"], captured["port"] = sockets[0].getsockname()[:2]

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    monkeypatch.setattr("people_events_mock.__main__.bind_socket", lambda host, port: _bound(host))
    return captured


def _bound(host: str) -> socket.socket:
    """A socket on a free loopback port: these tests check main()'s choices without binding `host` or 8080."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def test_defaults_bind_loopback(uvicorn_run: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert uvicorn_run["config"].access_log is False
    assert uvicorn_run["config"].loop == "uvloop"
    assert "WARNING" not in capsys.readouterr().err


def test_port_8080_is_the_default() -> None:
    assert _parser().parse_args([]).port == 8080


def test_rate_limit_option_replaces_a_and_b_but_not_f(uvicorn_run: dict[str, Any]) -> None:
    main(["--rate-limit", "7"])
    limiter = mock_state(uvicorn_run["app"]).limiter
    assert (limiter.limit("A"), limiter.limit("B"), limiter.limit("F")) == (7, 7, 1_000_000)


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_rate_limit_must_be_a_positive_whole_number(uvicorn_run: dict[str, Any], value: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--rate-limit", value])
    assert exited.value.code == 2


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.org"])
def test_non_loopback_host_warns_about_the_admin_api(
    uvicorn_run: dict[str, Any], capsys: pytest.CaptureFixture[str], host: str
) -> None:
    main(["--host", host])
    err = capsys.readouterr().err
    assert "WARNING" in err
    assert "/_mock" in err
    assert "admin API" in err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_do_not_warn(uvicorn_run: dict[str, Any], capsys: pytest.CaptureFixture[str], host: str) -> None:
    main(["--host", host])
    assert "WARNING" not in capsys.readouterr().err


def test_fixtures_option_loads_the_file(uvicorn_run: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text(
        json.dumps(
            {"accounts": [{"name": "Z", "rateLimit": 3, "credentials": [{"type": "App", "key": "k", "scopes": []}]}]}
        )
    )
    main(["--fixtures", str(path)])
    assert mock_state(uvicorn_run["app"]).store.accounts() == ("Z",)


_DEFINITION = {"definitionId": "d1", "title": "D"}
_ACCOUNT = {"name": "Z", "rateLimit": 3, "credentials": [{"type": "App", "key": "k", "scopes": []}]}
BAD_FIXTURES: dict[str, bytes | None] = {
    "missing": None,
    "not-json": b"{",
    "invalid": b'{"accounts": []}',
    "nested-deeply": b'{"accounts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "not-utf8": b'{"accounts": "\xff\xfe"}',
    "huge-integer": b'{"accounts": [' + b"9" * 5000 + b"]}",
    "duplicate-definition": json.dumps(
        {"accounts": [{**_ACCOUNT, "definitions": [_DEFINITION, {**_DEFINITION, "title": "again"}]}]}
    ).encode(),
    "a-directory": b"",
}


@pytest.mark.parametrize("case", list(BAD_FIXTURES))
def test_bad_fixtures_file_is_one_line_and_exit_2(
    uvicorn_run: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str
) -> None:
    path = tmp_path / "f.json"
    content = BAD_FIXTURES[case]
    if case == "a-directory":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    assert main(["--fixtures", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("people-events-mock: ")
    assert err.count("\n") == 1, err
    assert "app" not in uvicorn_run


def test_duplicate_definition_names_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(BAD_FIXTURES["duplicate-definition"] or b"")
    assert main(["--fixtures", str(path)]) == 2
    assert "'d1' is defined twice" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--port", "70000"],
        ["--port", "-1"],
        ["--port", "8o8o"],
        ["--port", "9" * 5000],
        ["--rate-limit", "0"],
        ["--max-store-mb", "0"],
        ["--header-timeout", "nan"],
        ["--body-timeout", "nan"],
        ["--body-timeout", "-1"],
        ["--body-timeout", "0"],
        ["--keep-alive-timeout", "0"],
        ["--log-level", "trace"],
        ["--no-such-flag"],
        ["--spec", "/nonexistent/openapi.yaml"],
        ["--admin-token", " "],
    ],
    ids=lambda argv: " ".join(argv)[:30],
)
def test_bad_option_is_one_line_and_exit_2(
    uvicorn_run: dict[str, Any], capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code: int | str | None
    try:
        code = main(argv)
    except SystemExit as exited:
        code = exited.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("people-events-mock: ")
    assert err.count("\n") == 1, err
    assert "app" not in uvicorn_run


def test_spec_without_the_operation_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "openapi.yaml"
    path.write_text("openapi: 3.1.0\npaths: {}\n")
    assert main(["--spec", str(path)]) == 2
    assert "has no POST" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [["--port", "70000"], ["--fixtures", "/nonexistent.json"], ["--host", "192.0.2.1"], ["--port", "{port}"]],
    ids=["port-out-of-range", "missing-fixtures", "address-not-here", "port-in-use"],
)
def test_cli_process_errors_are_one_line_without_traceback(argv: list[str]) -> None:
    """The real process: one line on stderr (after the exposure warning, for a non-loopback host), exit 2."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        command = [arg.format(port=taken.getsockname()[1]) for arg in argv]
        result = subprocess.run(
            [sys.executable, "-m", "people_events_mock", "--port", "0", *command],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("WARNING:")]
    assert len(lines) == 1
    assert lines[0].startswith("people-events-mock: ")


@pytest.mark.slow
def test_python_m_serves_on_loopback() -> None:
    """A real start: `python -m people_events_mock --port 0` answers the health check, then stops on SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-m", "people_events_mock", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 15
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            url = found.group(1) if found else None
        assert url is not None
        assert httpx.get(f"{url}/_mock/health", timeout=5).json()["status"] == "ok"
    finally:
        process.terminate()
        process.wait(timeout=10)
