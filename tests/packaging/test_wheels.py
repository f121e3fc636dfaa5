"""`make dist` builds installable packages: an sdist and a wheel per package, at the spec's version, twine-clean,
declaring the Pythons CI tests; each wheel works in a fresh venv with no repository on sys.path.

The mock's wheel serves a real request from its console script (a spec or fixtures file missing from the wheel
fails here, not only `--help`), and the client's wheel, installed in a venv of its own, sends an event to it.
"""

from __future__ import annotations

import configparser
import contextlib
import email.parser
import json
import os
import re
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.support.net import free_port
from tests.support.versions import expected_version

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_SECONDS = 600
START_TIMEOUT_SECONDS = 30.0
START_ATTEMPTS = 3

pytestmark = pytest.mark.slow


def _dist_name(project_name: str) -> str:
    """How a project's name appears in its distribution file names (PEP 427/625)."""
    return canonicalize_name(project_name).replace("-", "_")


CLIENT = _dist_name(yaml.safe_load((ROOT / "codegen" / "config.yaml").read_text())["project_name_override"])
MOCK = _dist_name(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"])


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make dist` builds (scripts/build_dist.py, which also runs `twine check --strict`), in a temp folder."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_dist.py"), str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=INSTALL_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def _wheel(dist: Path, name: str) -> Path:
    [wheel] = dist.glob(f"{name}-*.whl")
    return wheel


def _metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        [path] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(path).decode())


def _tested_pythons() -> set[str]:
    """The Pythons CI runs the suites on: tox's py3XY environments (make test is py311; .ci/run adds the others)."""
    tox = configparser.ConfigParser()
    tox.read(ROOT / "tox.ini")
    return {f"3.{minor}" for minor in re.findall(r"\bpy3(\d+)\b", tox["tox"]["envlist"])}


def test_dist_builds_an_sdist_and_a_wheel_per_package_at_the_spec_version(dist: Path) -> None:
    version = expected_version()
    assert sorted(path.name for path in dist.iterdir()) == sorted(
        [f"{name}-{version}-py3-none-any.whl" for name in (CLIENT, MOCK)]
        + [f"{name}-{version}.tar.gz" for name in (CLIENT, MOCK)]
    )
    for name in (CLIENT, MOCK):
        assert _metadata(_wheel(dist, name))["Version"] == version


@pytest.mark.parametrize("name", [CLIENT, MOCK])
def test_wheels_declare_exactly_the_pythons_ci_tests(dist: Path, name: str) -> None:
    metadata = _metadata(_wheel(dist, name))
    declared = {
        classifier.rsplit(" :: ", 1)[1]
        for classifier in metadata.get_all("Classifier") or []
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", classifier)
    }
    tested = _tested_pythons()
    assert declared == tested
    requires_python = SpecifierSet(metadata["Requires-Python"])
    assert all(requires_python.contains(f"{python}.0") for python in tested)
    oldest = min(tested, key=lambda python: int(python.split(".")[1]))
    assert not requires_python.contains(f"3.{int(oldest.split('.')[1]) - 1}.99")
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in declared  # this run's Python is a declared one


@dataclass(frozen=True, slots=True)
class Venv:
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def run(self, *args: str, timeout: float = INSTALL_TIMEOUT_SECONDS) -> subprocess.CompletedProcess[str]:
        """Run a command of this venv outside the repository, with no PYTHONPATH."""
        return subprocess.run(
            [str(self.path / "bin" / args[0]), *args[1:]],
            cwd=self.path,
            env=_clean_env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )


def _clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = "/usr/bin:/bin"
    return env


def _fresh_venv(path: Path, wheel: Path) -> Venv:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=INSTALL_TIMEOUT_SECONDS)
    venv = Venv(path)
    # Dependencies from the index at the versions of the lock, so the run is reproducible.
    result = venv.run("python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                      "-c", str(ROOT / "constraints.txt"), str(wheel))  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


@pytest.fixture(scope="module")
def mock_venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return _fresh_venv(tmp_path_factory.mktemp("venvs") / "mock", _wheel(dist, MOCK))


@pytest.fixture(scope="module")
def client_venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    return _fresh_venv(tmp_path_factory.mktemp("venvs") / "client", _wheel(dist, CLIENT))


def _healthy(base_url: str) -> bool:
    health = f"{base_url}/_mock/health"
    with contextlib.suppress(OSError, ValueError), urllib.request.urlopen(health, timeout=1.0) as response:
        return bool(json.load(response).get("status") == "ok")
    return False


@contextlib.contextmanager
def _serving(venv: Venv) -> Iterator[str]:
    """The installed console script serving on a free loopback port (retried if the port was taken meanwhile)."""
    for _ in range(START_ATTEMPTS):
        port = free_port()
        process = subprocess.Popen(
            [str(venv.path / "bin" / "people-events-mock"), "--host", "127.0.0.1", "--port", str(port)],
            cwd=venv.path,
            env=_clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while process.poll() is None and time.monotonic() < deadline and not _healthy(base_url):
                time.sleep(0.05)
            if process.poll() is None and _healthy(base_url):
                yield base_url
                return
        finally:
            process.terminate()
            output, _ = process.communicate(timeout=10)
        last_output = output.decode(errors="replace")
    pytest.fail(f"the installed mock did not start:\n{last_output}")


def _stored(base_url: str, event_id: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{base_url}/_mock/events?eventId={event_id}", timeout=5) as response:
        events: list[dict[str, object]] = json.load(response)["events"]
        return events


SEND = """
import json, sys
import people_events_client
from people_events_client import PeopleEvents

with PeopleEvents(sys.argv[1], api_key="mock-api-key") as people:
    event = people.send("jane.doe@example.com", "addToCart", identifier_type="EMAIL",
                        properties={"transactionId": "from-the-wheel"}, event_id=sys.argv[2])
print(json.dumps({"event_id": event.event_id, "file": people_events_client.__file__,
                  "version": people_events_client.__version__, "path": sys.path}))
"""

WHERE = """
import importlib.metadata, json, sys
import people_events_mock
print(json.dumps({"file": people_events_mock.__file__, "version": importlib.metadata.version("people-events-mock"),
                  "path": sys.path}))
"""


def _outside_the_repository(paths: list[str]) -> bool:
    return not any(Path(entry).resolve().is_relative_to(ROOT) for entry in paths if entry)


def test_installed_mock_serves_and_installed_client_sends_to_it(mock_venv: Venv, client_venv: Venv) -> None:
    where = mock_venv.run("python", "-I", "-c", WHERE)
    assert where.returncode == 0, where.stderr
    mock = json.loads(where.stdout)
    assert Path(mock["file"]).is_relative_to(mock_venv.path)
    assert _outside_the_repository(mock["path"])
    assert mock["version"] == expected_version()

    with _serving(mock_venv) as base_url:
        sent = client_venv.run("python", "-I", "-c", SEND, base_url, "wheel-event-1", timeout=60)
        assert sent.returncode == 0, sent.stderr
        client = json.loads(sent.stdout)
        assert client["event_id"] == "wheel-event-1"
        [stored] = _stored(base_url, "wheel-event-1")
    assert stored["properties"] == {"transactionId": "from-the-wheel"}
    assert Path(client["file"]).is_relative_to(client_venv.path)
    assert _outside_the_repository(client["path"])
    assert client["version"] == expected_version()


def test_installed_mock_console_script_prints_its_help(mock_venv: Venv) -> None:
    result = mock_venv.run("people-events-mock", "--help", timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: people-events-mock")
    assert "--rate-limit" in result.stdout


def test_the_client_wheel_does_not_bring_the_mock(client_venv: Venv) -> None:
    result = client_venv.run("python", "-I", "-c", "import people_events_mock", timeout=60)
    assert result.returncode != 0
    assert "No module named 'people_events_mock'" in result.stderr
