"""`python -m people_events_mock`: options, the exposure warning, and a real start."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from people_events_mock.__main__ import main
from people_events_mock.state import mock_state


@pytest.fixture
def uvicorn_run(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Captures what main() passes to uvicorn.run instead of serving."""
    captured: dict[str, Any] = {}

    def fake_run(app: Any, **kwargs: Any) -> None:
        captured["app"] = app
        captured.update(kwargs)

    monkeypatch.setattr("people_events_mock.__main__.uvicorn.run", fake_run)
    return captured


def test_defaults_bind_loopback_8080(uvicorn_run: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert (uvicorn_run["host"], uvicorn_run["port"]) == ("127.0.0.1", 8080)
    assert uvicorn_run["access_log"] is False
    assert "WARNING" not in capsys.readouterr().err


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


@pytest.mark.parametrize("content", [None, "{", '{"accounts": []}'], ids=["missing", "not-json", "invalid"])
def test_bad_fixtures_file_exits_2(
    uvicorn_run: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "f.json"
    if content is not None:
        path.write_text(content)
    assert main(["--fixtures", str(path)]) == 2
    assert "people-events-mock:" in capsys.readouterr().err
    assert "app" not in uvicorn_run


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
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
            url = found.group(1) if found else None
        assert url is not None
        assert httpx.get(f"{url}/_mock/health", timeout=5).json() == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(timeout=10)
