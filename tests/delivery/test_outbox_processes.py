"""The outbox across real processes: application processes enqueueing into one store while `people-events drain`
workers deliver it, some killed with SIGKILL mid-drain; SQLite (one file) and PostgreSQL (competing drainers,
SKIP LOCKED claims, one Redis budget); the transactional enqueue; PostgreSQL on a full disk (the outbox table in a
tablespace on a small tmpfs); the worker command's contract. Every fact is read back from the served mock."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from people_events_client.outbox import AsyncOutbox, Outbox, QueueFull, StoreError, StoreUnavailable, open_store
from people_events_mock.testing import MockProcess
from tests.support.bulk import API_KEY, environment
from tests.support.full_disk import enqueue_kilobyte, fill, small_tmpfs
from tests.support.mock_admin import clear_faults, set_faults, stored_events
from tests.support.postgres import PostgresServer
from tests.support.redis_server import RedisServer
from tests.support.servers import closed_port

MIXED_FAULTS = {"500-after-store": 0.03, "reset-after-store": 0.03, "500": 0.03, "reset": 0.02, "delay=30": 0.2}
DRAIN_TIMEOUT_SECONDS = 120


def stored_ids(base_url: str) -> Counter[str]:
    return Counter(event["eventId"] for event in stored_events(base_url))


def expected_ids(tags: dict[str, int]) -> Counter[str]:
    return Counter(f"{tag}-{n}" for tag, count in tags.items() for n in range(count))


def enqueuer(store_url: str, tag: str, count: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.outbox_worker", store_url, tag, str(count)], stderr=subprocess.PIPE
    )


def drainer(store_url: str, mock: MockProcess, *options: str, until_empty: bool = True) -> subprocess.Popen[bytes]:
    """`people-events drain STORE_URL [--until-empty]` with 3 s leases, credentials in the environment."""
    mode = ["--until-empty"] if until_empty else []
    return subprocess.Popen(
        [sys.executable, "-m", "people_events_client", "drain", store_url, *mode, "--lease", "3", *options],
        env=environment(mock.base_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_until(condition: Callable[[], bool], processes: list[subprocess.Popen[bytes]], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        for process in processes:
            assert process.poll() is None, f"a process ended early: {process.stderr and process.stderr.read()!r}"
        time.sleep(0.05)


def finish(process: subprocess.Popen[bytes]) -> None:
    _, errors = process.communicate(timeout=DRAIN_TIMEOUT_SECONDS)
    assert process.returncode == 0, errors.decode(errors="replace")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; killed at teardown in any case."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(10)


# SQLite


@pytest.mark.slow
def test_sqlite_two_enqueuing_processes_and_drainers_killed_twice_deliver_exactly_once(
    mock: MockProcess, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    """2,000 events from 2 application processes into one file while a drainer runs; drainers SIGKILLed twice
    mid-drain (with faults on), then a final drainer: every event stored once, and stats() agrees."""
    store_url = f"sqlite://{tmp_path / 'outbox.db'}"
    set_faults(mock.base_url, MIXED_FAULTS)
    writers = [enqueuer(store_url, tag, 1000) for tag in ("app1", "app2")]
    processes += writers
    first = drainer(store_url, mock, until_empty=False)  # a worker: it waits for events
    processes.append(first)
    wait_until(lambda: len(stored_events(mock.base_url)) >= 300, [first], "the first drainer's sends")
    first.kill()
    for writer in writers:
        finish(writer)
    second = drainer(store_url, mock)
    processes.append(second)
    wait_until(lambda: len(stored_events(mock.base_url)) >= 900, [second], "the second drainer's sends")
    second.kill()
    assert first.wait(10) == second.wait(10) == -signal.SIGKILL
    final = drainer(store_url, mock)
    processes.append(final)
    finish(final)

    assert stored_ids(mock.base_url) == expected_ids({"app1": 1000, "app2": 1000})
    with Outbox(store_url) as outbox:
        counts = outbox.stats()
    assert (counts.sent, counts.pending, counts.in_flight, counts.rejected) == (2000, 0, 0, 0)


# PostgreSQL


@pytest.fixture(scope="module")
def postgres(postgres_server: PostgresServer) -> PostgresServer:
    return postgres_server


@pytest.fixture
def migrated(postgres_url: str) -> str:
    """A new database with the outbox's table, made by `people-events migrate` (twice: it is idempotent)."""
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "people_events_client", "migrate", postgres_url],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "outbox schema version 1 ready" in result.stdout
    return postgres_url


def test_postgres_is_never_migrated_implicitly(postgres_url: str, mock: MockProcess) -> None:
    outbox = Outbox(postgres_url, base_url=mock.base_url, api_key=API_KEY)
    with pytest.raises(StoreError, match="people-events migrate"):
        outbox.enqueue("crm-1001", "addToCart", identifier_type="EXTERNAL_ID")
    with psycopg.connect(postgres_url) as connection:
        assert connection.execute("SELECT to_regclass('people_events_outbox')").fetchone() == (None,)
    assert outbox.migrate() == outbox.migrate() == 1
    outbox.close()


class Abandon(Exception):
    """The business change fails after the event was enqueued in its transaction."""


def place_order(connection: psycopg.Connection[Any], outbox: Outbox, order: str, *, fail: bool = False) -> None:
    """One business transaction: an order row and its event; ``fail`` raises at its end, rolling both back."""
    with connection.transaction():
        connection.execute("INSERT INTO orders VALUES (%s)", (order,))
        outbox.enqueue("crm-1001", "addToCart", identifier_type="EXTERNAL_ID", event_id=order, connection=connection)
        assert outbox.stats().pending == 0  # not visible outside the transaction before it commits
        if fail:
            raise Abandon


def test_postgres_enqueue_inside_the_callers_transaction(migrated: str, mock: MockProcess) -> None:
    """Rolled back: the business row and the event are both gone. Committed: both exist, and the event is sent."""
    outbox = Outbox(migrated, base_url=mock.base_url, api_key=API_KEY)
    with psycopg.connect(migrated) as connection:
        connection.execute("CREATE TABLE orders (id text PRIMARY KEY)")
        connection.commit()
        with pytest.raises(Abandon):
            place_order(connection, outbox, "order-rolled-back", fail=True)
        place_order(connection, outbox, "order-committed")
        orders = [row[0] for row in connection.execute("SELECT id FROM orders").fetchall()]
    assert orders == ["order-committed"]
    assert outbox.stats().pending == 1
    outbox.start()
    assert outbox.flush(timeout=60)
    outbox.close()
    assert stored_ids(mock.base_url) == Counter(["order-committed"])


def test_postgres_a_lost_connection_raises_store_unavailable_with_the_event_id(
    migrated: str, mock: MockProcess
) -> None:
    """The server ends the application's connection mid-transaction (a restart, a failover): ``enqueue`` raises
    ``StoreUnavailable`` carrying the eventId it was enqueueing, not a raw psycopg error. The application retries
    the business transaction with that eventId on a new connection; the event is delivered once."""
    outbox = Outbox(migrated, base_url=mock.base_url, api_key=API_KEY)
    with psycopg.connect(migrated, autocommit=True) as setup:
        setup.execute("CREATE TABLE orders (id text PRIMARY KEY)")
    connection = psycopg.connect(migrated)
    connection.execute("SELECT 1")  # a transaction is open
    with psycopg.connect(migrated, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (connection.info.backend_pid,))
    with pytest.raises(StoreUnavailable, match="enqueue it again with the same event_id") as caught:
        outbox.enqueue("crm-1001", "addToCart", identifier_type="EXTERNAL_ID", connection=connection)
    connection.close()
    event_id = caught.value.event_id
    assert event_id is not None
    with psycopg.connect(migrated) as retry, retry.transaction():
        retry.execute("INSERT INTO orders VALUES ('order-retried')")
        enqueued = outbox.enqueue(
            "crm-1001", "addToCart", identifier_type="EXTERNAL_ID", event_id=event_id, connection=retry
        )
    assert enqueued == event_id
    outbox.start()
    assert outbox.flush(timeout=60)
    outbox.close()
    assert stored_ids(mock.base_url) == Counter([event_id])


def test_postgres_an_unreachable_server_raises_store_unavailable(mock: MockProcess) -> None:
    """No server at the store's address: ``enqueue`` raises ``StoreUnavailable`` with the eventId and the reason in
    one line, not a raw psycopg error."""
    outbox = Outbox(f"postgresql://postgres@127.0.0.1:{closed_port()}/outbox", base_url=mock.base_url, api_key=API_KEY)
    try:
        with pytest.raises(StoreUnavailable, match=r"cannot connect to the PostgreSQL outbox: .*refused") as caught:
            outbox.enqueue("crm-1001", "addToCart", identifier_type="EXTERNAL_ID", event_id="unreachable-1")
    finally:
        outbox.close()
    assert caught.value.event_id == "unreachable-1"
    assert "\n" not in str(caught.value)


async def aplace_order(
    connection: psycopg.AsyncConnection[Any], outbox: AsyncOutbox, order: str, *, fail: bool
) -> None:
    async with connection.transaction():
        await outbox.enqueue(
            "crm-1001", "addToCart", identifier_type="EXTERNAL_ID", event_id=order, connection=connection
        )
        if fail:
            raise Abandon


async def test_postgres_async_enqueue_inside_an_async_transaction(migrated: str, mock: MockProcess) -> None:
    async with AsyncOutbox(migrated, base_url=mock.base_url, api_key=API_KEY, max_pending=2) as outbox:
        async with await psycopg.AsyncConnection.connect(migrated) as connection:
            await aplace_order(connection, outbox, "async-1", fail=False)
            with pytest.raises(Abandon):
                await aplace_order(connection, outbox, "async-2", fail=True)
        await outbox.enqueue("crm-1001", "addToCart", identifier_type="EXTERNAL_ID", event_id="own-1")
        with pytest.raises(StoreError, match="max_pending is 2"):
            await outbox.enqueue("crm-1001", "addToCart", identifier_type="EXTERNAL_ID", event_id="over")
        outbox.start()
        assert await outbox.flush(timeout=60)
    assert stored_ids(mock.base_url) == Counter(["async-1", "own-1"])


# PostgreSQL on a full disk

DISK_KIB = 1024
BALLAST_KIB = 768


@contextlib.contextmanager
def outbox_on_a_small_disk(server: PostgresServer) -> Iterator[tuple[str, Path]]:
    """A new migrated database whose outbox table (with its TOAST table and its indexes) lives in a tablespace on a
    tmpfs of `DISK_KIB`, holding `BALLAST_KIB` of ballast (delete it to free space). The WAL, the catalogs and the
    other tables stay on the cluster's own disk, so PostgreSQL keeps running when the tablespace fills. Yields the
    store URL and the mount; the database, the tablespace and the mount are gone at the end, even on failure (the
    cluster is the module's, shared with other tests)."""
    with small_tmpfs(DISK_KIB, owner="postgres") as disk, server.tablespace(disk) as tablespace:
        store_url = server.new_database()
        try:
            with Outbox(store_url) as outbox:
                outbox.migrate()
            with psycopg.connect(store_url, autocommit=True) as connection:
                connection.execute(f"ALTER TABLE people_events_outbox SET TABLESPACE {tablespace}")
                indexes = connection.execute(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'people_events_outbox'"
                ).fetchall()
                for (index,) in indexes:
                    connection.execute(f"ALTER INDEX {index} SET TABLESPACE {tablespace}")
                on_disk = connection.execute(
                    "SELECT count(*) FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace"
                    " WHERE t.spcname = %s",
                    (tablespace,),
                ).fetchone()
            assert on_disk == (len(indexes) + 3,)  # the table, its TOAST table and TOAST index, its indexes
            (disk / "ballast").write_bytes(b"\0" * BALLAST_KIB * 1024)
            yield store_url, disk
        finally:
            server.drop_database(store_url)


def stored_rows(store_url: str) -> Counter[tuple[str, str, int]]:
    """(eventId, state, length of properties.transactionId) of every row, read with SQL."""
    with psycopg.connect(store_url) as connection:
        rows = connection.execute(
            "SELECT event_id, state, length(properties->>'transactionId') FROM people_events_outbox"
        ).fetchall()
    return Counter((event_id, state, length) for event_id, state, length in rows)


def pending_kilobyte_events(event_ids: list[str]) -> Counter[tuple[str, str, int]]:
    return Counter((event_id, "pending", 1000) for event_id in event_ids)


REFUSED_MESSAGE = "the PostgreSQL server's disk is full: nothing was enqueued (events already enqueued are intact)"


def test_postgres_a_full_disk_raises_and_loses_nothing(postgres_server: PostgresServer, mock: MockProcess) -> None:
    """Enqueue until the tablespace is full (10 refusals in a row). Each refusal is QueueFull (reason "disk") and
    stores nothing; each accepted event is stored whole, once. In the caller's transaction, the refusal leaves it
    aborted (roll back). A drainer started on the full disk fails and tries again; once the ballast goes, enqueue
    works again, the drainer catches up, and every accepted event is delivered exactly once."""
    with outbox_on_a_small_disk(postgres_server) as (store_url, disk):
        outbox = Outbox(store_url, base_url=mock.base_url, api_key=API_KEY)
        try:
            filled = fill(outbox, refusals_in_a_row=10)
            assert filled.refusal is not None
            assert filled.refusal.reason == "disk"
            assert str(filled.refusal) == REFUSED_MESSAGE
            assert len(filled.accepted) > 100
            # PostgreSQL may fit a row into space it reclaims from a refused one: a few may pass between refusals
            assert stored_rows(store_url) == pending_kilobyte_events(filled.accepted)
            assert outbox.stats().pending == len(filled.accepted)

            committed, orders = transactions_until_refused(store_url, outbox)
            assert orders == committed  # the refused transaction's order was rolled back with it
            assert stored_rows(store_url) == pending_kilobyte_events(filled.accepted + committed)

            outbox.start()  # a drainer on the full disk: a claim writes new row versions, so it fails and waits
            wait_until(lambda: outbox.totals is not None and outbox.totals.restarts > 0, [], "the drainer's failure")
            assert outbox.totals is not None
            assert (outbox.totals.last_error or "").startswith("DiskFull: ")

            (disk / "ballast").unlink()
            after = [enqueue_kilobyte(outbox, f"after-{number}") for number in range(5)]
            accepted = filled.accepted + committed + after
            assert outbox.flush(timeout=60)  # the drainer started again and caught up
        finally:
            outbox.close()
        assert stored_ids(mock.base_url) == Counter(accepted)
        store = open_store(store_url)
        try:
            assert sorted(str(record.event_id) for record in store.finished(("sent",))) == sorted(accepted)
        finally:
            store.close()


def transactions_until_refused(store_url: str, outbox: Outbox) -> tuple[list[str], list[str]]:
    """Business transactions (an order row and its event, enqueued with ``connection=``) on the full disk until one
    is refused: the refusal is QueueFull, PostgreSQL has aborted the transaction (every statement fails until the
    rollback). Returns the orders committed before it, and the orders table after the rollback."""
    committed: list[str] = []
    with psycopg.connect(store_url) as connection:
        connection.execute("CREATE TABLE orders (id text PRIMARY KEY)")
        connection.commit()
        for number in range(50):
            order = f"order-{number}"
            connection.execute("INSERT INTO orders VALUES (%s)", (order,))
            try:
                enqueue_kilobyte(outbox, order, connection=connection)
            except QueueFull as refused:
                assert refused.reason == "disk"
                assert str(refused) == REFUSED_MESSAGE
                assert connection.info.transaction_status is TransactionStatus.INERROR
                with pytest.raises(psycopg.errors.InFailedSqlTransaction):
                    connection.execute("SELECT 1")
                connection.rollback()
                orders = [row[0] for row in connection.execute("SELECT id FROM orders ORDER BY id").fetchall()]
                return committed, sorted(orders)
            connection.commit()
            committed.append(order)
    pytest.fail("50 transactions fitted on a full disk")


async def test_postgres_async_enqueue_on_a_full_disk(postgres_server: PostgresServer) -> None:
    """AsyncOutbox: its own transaction and the caller's psycopg.AsyncConnection are refused alike on a full disk,
    with QueueFull (reason "disk"); the caller's transaction is aborted, and nothing refused is stored."""
    with outbox_on_a_small_disk(postgres_server) as (store_url, _):
        with Outbox(store_url) as outbox:
            filled = fill(outbox, refusals_in_a_row=10)
        accepted = list(filled.accepted)
        async with AsyncOutbox(store_url) as aoutbox:
            refusals = 0
            for number in range(50):
                try:
                    accepted.append(await aenqueue_kilobyte(aoutbox, f"async-own-{number}"))
                except QueueFull as refused:
                    assert (refused.reason, str(refused)) == ("disk", REFUSED_MESSAGE)
                    refusals += 1
                    if refusals == 3:
                        break
            else:
                pytest.fail("fewer than 3 refusals in 50 enqueues on a full disk")
            async with await psycopg.AsyncConnection.connect(store_url) as connection:
                for number in range(50):
                    try:
                        await aenqueue_kilobyte(aoutbox, f"async-caller-{number}", connection=connection)
                    except QueueFull as refused:
                        assert (refused.reason, str(refused)) == ("disk", REFUSED_MESSAGE)
                        assert connection.info.transaction_status is TransactionStatus.INERROR
                        await connection.rollback()
                        break
                    await connection.commit()
                    accepted.append(f"async-caller-{number}")
                else:
                    pytest.fail("50 transactions fitted on a full disk")
        assert stored_rows(store_url) == pending_kilobyte_events(accepted)


async def aenqueue_kilobyte(outbox: AsyncOutbox, event_id: str, **options: Any) -> str:
    return await outbox.enqueue(
        "crm-1001",
        "addToCart",
        identifier_type="EXTERNAL_ID",
        properties={"transactionId": "p" * 1000},
        event_id=event_id,
        **options,
    )


@pytest.mark.slow
@pytest.mark.redis
def test_postgres_competing_drainers_one_killed_deliver_exactly_once_under_faults(
    migrated: str, mock: MockProcess, own_redis_server: RedisServer, processes: list[subprocess.Popen[bytes]]
) -> None:
    """900 events; 3 `people-events drain` processes claim with SKIP LOCKED and share one Redis budget, with mixed
    faults on; one is SIGKILLed mid-drain and the others take over its events when its leases expire."""
    with Outbox(migrated) as outbox:
        for number in range(900):
            outbox.enqueue(
                "crm-1001",
                "addToCart",
                identifier_type="EXTERNAL_ID",
                properties={"transactionId": f"pg-{number}"},
                event_id=f"pg-{number}",
            )
    set_faults(mock.base_url, MIXED_FAULTS)
    drainers = [drainer(migrated, mock, "--redis", own_redis_server.url) for _ in range(3)]
    processes += drainers
    wait_until(lambda: len(stored_events(mock.base_url)) >= 250, drainers, "the drainers' first sends")
    drainers[0].kill()
    for survivor in drainers[1:]:
        finish(survivor)
    assert drainers[0].wait(10) == -signal.SIGKILL
    clear_faults(mock.base_url)

    assert stored_ids(mock.base_url) == expected_ids({"pg": 900})
    with Outbox(migrated) as outbox:
        counts = outbox.stats()
    assert (counts.sent, counts.pending, counts.in_flight, counts.rejected) == (900, 0, 0, 0)


# The worker command


def test_drain_errors_are_one_line_and_never_show_credentials(mock: MockProcess, tmp_path: Path) -> None:
    secret_url = "postgresql://app:pg-s3cret@127.0.0.1:1/none"
    cases = [
        (["drain", secret_url, "--until-empty"], environment(mock.base_url), "cannot connect"),
        (["drain", "mysql://x/y"], environment(mock.base_url), "store URL"),
        (["drain", f"sqlite://{tmp_path / 'a.db'}"], environment(None, None), "no base URL"),
        (
            ["drain", f"sqlite://{tmp_path / 'a.db'}", "--api-key", "key-s3cret", "--concurrency", "0"],
            environment(mock.base_url),
            "concurrency",
        ),
        (["migrate", secret_url], environment(), "cannot connect"),
    ]
    for args, env, message in cases:
        result = subprocess.run(
            [sys.executable, "-m", "people_events_client", *args], env=env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.splitlines()
        assert "error: " in lines[-1]
        assert message in lines[-1]
        assert [line for line in lines if "error" in line] == lines[-1:]  # argparse's usage before it, at most
        assert "Traceback" not in result.stderr
        assert "s3cret" not in result.stdout + result.stderr


@pytest.mark.slow
def test_drain_stops_cleanly_on_sigterm(
    mock: MockProcess, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    """A worker (no --until-empty) gets SIGTERM with sends in flight: exit 0, nothing leased, what is marked sent is
    stored; a second worker delivers the rest, each event once."""
    store_url = f"sqlite://{tmp_path / 'outbox.db'}"
    enqueuer_process = enqueuer(store_url, "term", 300)
    processes.append(enqueuer_process)
    finish(enqueuer_process)
    set_faults(mock.base_url, {"delay=300": 1.0})
    worker = subprocess.Popen(
        [sys.executable, "-m", "people_events_client", "drain", store_url, "--concurrency", "16"],
        env=environment(mock.base_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    processes.append(worker)
    wait_until(lambda: len(stored_events(mock.base_url)) >= 40, [worker], "the worker's sends")
    worker.send_signal(signal.SIGTERM)
    finish(worker)
    with Outbox(store_url) as outbox:
        counts = outbox.stats()
    assert counts.in_flight == 0
    assert counts.sent + counts.pending == 300
    assert counts.pending > 0
    clear_faults(mock.base_url)
    final = drainer(store_url, mock)
    processes.append(final)
    finish(final)
    assert stored_ids(mock.base_url) == expected_ids({"term": 300})
    assert os.path.getsize(tmp_path / "outbox.db") > 0
