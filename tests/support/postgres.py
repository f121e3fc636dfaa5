"""A throwaway Debian PostgreSQL 15 cluster on 127.0.0.1 and a free port, for tests and benchmarks (a pytest plugin).

The cluster lives in a temporary folder (data and socket directories), is made with ``initdb`` and run with
``pg_ctl`` from ``/usr/lib/postgresql/15/bin`` (``PG_BIN`` overrides it), as the ``postgres`` user when running as
root (PostgreSQL refuses to run as root), and is stopped and deleted at teardown. Authentication is ``trust`` on
loopback only. ``fsync=False`` makes it faster for tests; benchmarks keep PostgreSQL's defaults.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.net import free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT_SECONDS = 60


class PostgresServer:
    """A running throwaway cluster; ``url`` reaches its ``postgres`` database, ``new_database()`` makes another."""

    def __init__(self, *, fsync: bool = False) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="people-events-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.log = self.folder / "postgres.log"
        self.socket_dir.mkdir()
        self._user = "postgres" if os.geteuid() == 0 else None
        if self._user is not None:
            account = pwd.getpwnam(self._user)
            for path in (self.folder, self.socket_dir):
                os.chown(path, account.pw_uid, account.pw_gid)
        try:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} -c fsync={'on' if fsync else 'off'}"
                " -c max_connections=100"
            )
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                      "-t", str(START_TIMEOUT_SECONDS), "start")  # fmt: skip
        except BaseException:
            self._remove()
            raise
        self.url = self.database_url("postgres")

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(PG_BIN / program), *args],
            user=self._user,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS + 30,
            check=False,
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr or result.stdout}\n{log}")

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def new_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg  # here, not at import: this module is a plugin of every pytest run

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database `new_database()` made, closing any connection still open to it."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    @contextlib.contextmanager
    def tablespace(self, location: Path) -> Iterator[str]:
        """A new tablespace in `location` (an empty folder the server's user owns); yields its name, and drops it at
        the end, when whatever was put in it must be gone (its database dropped, or its tables moved out)."""
        import psycopg

        name = f"ts_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f"CREATE TABLESPACE {name} LOCATION '{location}'")
        try:
            yield name
        finally:
            with psycopg.connect(self.url, autocommit=True) as connection:
                connection.execute(f"DROP TABLESPACE IF EXISTS {name}")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            self._remove()

    def _remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


def _require_postgres() -> None:
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is missing ({PG_BIN}); .ci/run installs Debian's postgresql")
        pytest.skip(f"PostgreSQL 15 is not installed at {PG_BIN} (apt-get install postgresql)")


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway cluster for the module."""
    _require_postgres()
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A new empty database in the module's cluster."""
    return postgres_server.new_database()
