"""Outbox benchmarks: enqueue latency (SQLite, PostgreSQL), drain rate against the served mock, and a crash run.

Usage: python scripts/bench_outbox.py [--enqueues 5000] [--events 5000] [--skip-latency] [--skip-rate] [--skip-crash]

1. Enqueue latency: ENQUEUES calls of ``Outbox.enqueue`` one after another (one event each, validated, one durable
   write), timed with ``time.perf_counter``: SQLite with fsync (the default) and without (WAL commit only);
   PostgreSQL 15 (a throwaway cluster with the server's defaults: fsync on, synchronous_commit on) through the
   outbox's own pool, and inside the caller's transaction (``INSERT`` of a business row + ``enqueue(connection=)``
   + ``COMMIT``: what a request handler pays).
2. Drain rate: EVENTS events enqueued, then drained by `people-events drain --until-empty` processes against the
   mock in its own process (account A at 250 requests per rolling second, 100 ms added to every request): 1
   drainer on SQLite; 1 drainer on PostgreSQL; 3 drainers on PostgreSQL sharing one Redis budget. The rate is the
   server's: (events - 1) / (last - first acceptance time), as a percentage of 250/s. Server 429s come from its
   access log; "surfaced" 429s are events rejected, or delivery rounds retried, after the client's own retries.
3. Crash run: EVENTS events on SQLite with mixed faults, drainers killed with SIGKILL twice mid-drain, then a final
   drainer; lost and duplicated events by read-back.

Every drain run is checked by read-back: each event stored exactly once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg

from people_events_client.outbox import Outbox
from people_events_mock.testing import MockProcess, mock_process
from tests.support.bulk import environment
from tests.support.mock_admin import clear_faults, set_faults, stored_events
from tests.support.outbox_worker import enqueue_good as enqueue_one
from tests.support.postgres import PostgresServer
from tests.support.redis_server import RedisServer

RATE = 250
LATENCY = {"delay=100": 1.0}
MIXED_FAULTS = {"500-after-store": 0.02, "reset-after-store": 0.02, "500": 0.02, "reset": 0.01, "delay=100": 1.0}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(count: int, call: Callable[[int], object]) -> list[float]:
    for number in range(min(200, count)):  # warm-up: caches, prepared statements, the pool
        call(-1 - number)
    samples = []
    for number in range(count):
        started = time.perf_counter()
        call(number)
        samples.append(time.perf_counter() - started)
    return samples


def latency(count: int, workdir: Path, postgres: PostgresServer) -> None:
    rows: list[tuple[str, list[float]]] = []
    for label, fsync in (("SQLite, fsync (default)", True), ("SQLite, fsync=False (WAL commit)", False)):
        with Outbox(f"sqlite://{workdir / f'latency-{fsync}.db'}", fsync=fsync) as outbox:
            rows.append((label, timed(count, lambda n, box=outbox: enqueue_one(box, n, "lat"))))  # type: ignore[misc]
    url = postgres.new_database()
    with Outbox(url) as outbox:
        outbox.migrate()
        rows.append(("PostgreSQL, the outbox's pool", timed(count, lambda n: enqueue_one(outbox, n, "own"))))
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE orders (id text PRIMARY KEY)")
            connection.commit()

            def transaction(number: int) -> None:
                with connection.transaction():
                    connection.execute("INSERT INTO orders VALUES (%s)", (f"order-{number}",))
                    enqueue_one(outbox, number, "tx", connection=connection)

            rows.append(("PostgreSQL, in the caller's transaction (+ INSERT, COMMIT)", timed(count, transaction)))
    print(f"\nEnqueue latency ({count} enqueues each, one after another)\n")
    print("| store | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|")
    for label, samples in rows:
        print(
            f"| {label} | {percentile(samples, 0.5) * 1e3:.3f} | {percentile(samples, 0.99) * 1e3:.3f}"
            f" | {max(samples) * 1e3:.1f} |"
        )


def fill(store_url: str, count: int, tag: str) -> None:
    with Outbox(store_url) as outbox:
        outbox.migrate()
        for number in range(count):
            enqueue_one(outbox, number, tag)


def drainer(store_url: str, mock: MockProcess, *options: str, until_empty: bool = True) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "people_events_client", "drain", store_url, "--lease", "5", *options]
    command += ["--until-empty"] if until_empty else []
    return subprocess.Popen(command, env=environment(mock.base_url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen[bytes]) -> None:
    _, errors = process.communicate(timeout=3600)
    if process.returncode != 0:
        sys.exit(f"drain failed ({process.returncode}): {errors.decode(errors='replace')}")


def server_429s(mock: MockProcess) -> int:
    return len(re.findall(r"POST /peopleevents/\S+ 429 ", mock.log_path.read_text(errors="replace")))


def surfaced(store_url: str) -> tuple[int, int]:
    """(events rejected, delivery rounds retried) as the store recorded them."""
    if store_url.startswith("sqlite:"):
        with contextlib.closing(sqlite3.connect(store_url.removeprefix("sqlite://"))) as db:
            rejected, rounds = db.execute(
                "SELECT coalesce(sum(state = 'rejected'), 0), coalesce(sum(rounds), 0) FROM events"
            ).fetchone()
    else:
        with psycopg.connect(store_url) as connection:
            row = connection.execute(
                "SELECT count(*) FILTER (WHERE state = 'rejected'), coalesce(sum(rounds), 0) FROM people_events_outbox"
            ).fetchone()
            assert row is not None
            rejected, rounds = row
    return int(rejected), int(rounds)


def check_exactly_once(mock: MockProcess, tag: str, count: int) -> tuple[int, int]:
    """(lost, duplicated) by read-back; exits if either is not 0."""
    stored = Counter(event["eventId"] for event in stored_events(mock.base_url))
    expected = {f"{tag}-{n}" for n in range(count)}
    lost = len(expected - set(stored))
    duplicated = sum(times - 1 for times in stored.values()) + len(set(stored) - expected)
    if lost or duplicated:
        sys.exit(f"{tag}: {lost} events lost, {duplicated} duplicated or foreign")
    return lost, duplicated


@contextlib.contextmanager
def served_mock(workdir: Path, label: str) -> Iterator[MockProcess]:
    with mock_process(rate_limit=RATE, log_level="info", log_path=workdir / f"{label}.mock.log") as mock:
        yield mock


def rate(count: int, workdir: Path, postgres: PostgresServer) -> None:
    print(f"\nDrain rate ({count} events, 100 ms added latency, account limit {RATE}/s)\n")
    print("| drainers | store | stored | % of 250/s | span s | server 429s | surfaced 429s | rounds retried |")
    print("|---|---|---|---|---|---|---|---|")
    redis_server = RedisServer()
    try:
        runs = [
            ("1", "SQLite", f"sqlite://{workdir / 'rate.db'}", 1, []),
            ("1", "PostgreSQL", postgres.new_database(), 1, []),
            ("3, one Redis budget", "PostgreSQL", postgres.new_database(), 3, ["--redis", redis_server.url]),
        ]
        for label, store, store_url, drainers, options in runs:
            tag = f"rate{drainers}{store[0]}"
            fill(store_url, count, tag)
            with served_mock(workdir, tag) as mock:
                set_faults(mock.base_url, LATENCY)
                processes = [drainer(store_url, mock, "--concurrency", "64", *options) for _ in range(drainers)]
                for process in processes:
                    finish(process)
                check_exactly_once(mock, tag, count)
                accepted = sorted(event["acceptedAt"] for event in stored_events(mock.base_url))
                span = accepted[-1] - accepted[0]
                percent = (len(accepted) - 1) / span / RATE * 100
                rejected, rounds = surfaced(store_url)
                print(
                    f"| {label} | {store} | {len(accepted)} | {percent:.1f}% | {span:.1f} | {server_429s(mock)}"
                    f" | {rejected} | {rounds} |"
                )
    finally:
        redis_server.stop()


def crash(count: int, workdir: Path) -> None:
    store_url = f"sqlite://{workdir / 'crash.db'}"
    fill(store_url, count, "crash")
    with served_mock(workdir, "crash") as mock:
        set_faults(mock.base_url, MIXED_FAULTS)
        for threshold in (count // 4, count // 2):
            process = drainer(store_url, mock, until_empty=False)
            while len(stored_events(mock.base_url)) < threshold:
                if process.poll() is not None:
                    sys.exit("a drainer ended early")
                time.sleep(0.1)
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        final = drainer(store_url, mock)
        finish(final)
        clear_faults(mock.base_url)
        lost, duplicated = check_exactly_once(mock, "crash", count)
        requests = mock.log_path.read_text(errors="replace").count("POST /peopleevents/")
    print(f"\nCrash run: {count} events, mixed faults, drainers killed with SIGKILL twice, then a final drainer\n")
    print(f"lost {lost}, duplicated {duplicated}, requests {requests} (resends included, each recorded once)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enqueues", type=int, default=5000)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-rate", action="store_true")
    parser.add_argument("--skip-crash", action="store_true")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    postgres = PostgresServer(fsync=True)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-outbox-") as folder:
            workdir = Path(folder)
            if not args.skip_latency:
                latency(args.enqueues, workdir, postgres)
            if not args.skip_rate:
                rate(args.events, workdir, postgres)
            if not args.skip_crash:
                crash(args.events, workdir)
    finally:
        postgres.stop()
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
