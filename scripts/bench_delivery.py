"""Delivery benchmarks: `people-events send` against the served reference mock, and a large dry run.

Usage: python scripts/bench_delivery.py [--rows 20000] [--dry-rows 1000000] [--skip-rate] [--skip-large]

1. Sustained rate: ROWS rows (account A's 20 fixture persons, half with their own eventId) sent by the
   command with its defaults (250/s, concurrency 64) to the mock in its own process (account A limited to 250
   requests per rolling second) with 100 ms added to every request (`delay=100`). The rate is taken from the
   server's acceptance times (`GET /_mock/events`): (events - 1) / (last - first), as a percentage of 250/s. The
   server's 429s come from its access log; "surfaced" 429s are those that reached the engine (a round that
   ended in RateLimited) or a dead letter.
2. The same with 5% mixed faults (500, 500-after-store, reset, reset-after-store, html-502, empty-429) on top.
3. CPU per row and peak RSS of `people-events send --dry-run` over DRY_ROWS rows, and the peak RSS of a real
   send of the same file, stopped with SIGINT once the whole file is in the journal.

Every run also checks exactly-once by read-back: ROWS distinct events stored, no dead letter.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from people_events_mock.testing import MockProcess, mock_process
from tests.support.bulk import command, environment, good_row
from tests.support.mock_admin import set_faults, stored_events

RATE = 250
LATENCY = {"delay=100": 1.0}
MIXED_FAULTS = {
    "500": 0.01,
    "500-after-store": 0.01,
    "reset": 0.01,
    "reset-after-store": 0.01,
    "html-502": 0.005,
    "empty-429": 0.005,
}


@dataclass
class Run:
    """What one measured command run did."""

    exit_code: int
    wall: float
    cpu: float
    peak_rss_mib: float
    stdout: str
    stderr: str


def write_rows(path: Path, count: int, tag: str) -> None:
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            out.write(json.dumps(good_row(n, event_id=f"{tag}-{n}" if n % 2 == 0 else None, tag=tag)) + "\n")


def _peak_rss_kib(pid: int) -> int:
    """VmHWM of a running process: the peak RSS of its own address space. (wait4's ru_maxrss would not do: it
    keeps the high-water mark from before the exec, that is this script's own.)"""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def measure(args: list[str], env: dict[str, str], *, stop_when: str | None = None, timeout: float = 3600) -> Run:
    """Run `people-events send ARGS`; CPU (wait4) and peak RSS (VmHWM, sampled) of that process alone. With
    `stop_when`, send SIGINT once the last stderr line contains it."""
    started = time.monotonic()
    peak = 0
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command(*args), env=env, stdout=out, stderr=err, text=True)
        interrupted = stop_when is None
        while True:
            peak = max(peak, _peak_rss_kib(process.pid))
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)  # not poll(): wait4 also gives the CPU used
            if pid:
                break
            if not interrupted and (_last_line_has(err, stop_when or "") or time.monotonic() > started + timeout):
                process.send_signal(signal.SIGINT)
                interrupted = True
            time.sleep(0.2)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return Run(
            exit_code=process.returncode,
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            peak_rss_mib=peak / 1024,
            stdout=out.read(),
            stderr=err.read(),
        )


def _last_line_has(err: IO[str], marker: str) -> bool:
    err.seek(0)
    lines = err.read().splitlines()
    return bool(lines) and marker in lines[-1]


def server_429s(mock: MockProcess) -> int:
    return len(re.findall(r"POST /peopleevents/\S+ 429 ", mock.log_path.read_text(errors="replace")))


def sustained(rows: int, faults: dict[str, float], label: str, workdir: Path) -> list[str]:
    path = workdir / f"{label}.jsonl"
    write_rows(path, rows, label)
    with mock_process(rate_limit=RATE, log_level="info", log_path=workdir / f"{label}.mock.log") as mock:
        set_faults(mock.base_url, {**faults, **LATENCY})  # faults first: the first rule that fires wins
        run = measure([str(path), "--progress-interval", "30"], environment(mock.base_url))
        events = stored_events(mock.base_url)
        refused = server_429s(mock)
        requests = mock.log_path.read_text(errors="replace").count("POST /peopleevents/")
    times = sorted(float(event["acceptedAt"]) for event in events)
    span = times[-1] - times[0]
    percent = (len(times) - 1) / span / RATE * 100
    attempts = requests / span / RATE * 100  # every request the server admitted or refused, retries included
    distinct = len({(e["person"]["personId"], e["eventId"]) for e in events})
    retries = int(re.search(r"(\d+) retries", run.stdout).group(1))  # type: ignore[union-attr]
    dead = (workdir / f"{label}.jsonl.rejected.jsonl").read_text().count("\n")
    surfaced = dead + retries  # an engine round that ended in 429 (or 5xx/no response) after the client's retries
    ok = run.exit_code == 0 and distinct == len(events) == rows and dead == 0
    return [
        f"| {label} | {rows} | {len(events)} | {percent:.1f}% | {attempts:.1f}% | {span:.1f} | {requests} | {refused} "
        f"| {retries} "
        f"| {dead} | {run.cpu / rows * 1000:.2f} | {run.peak_rss_mib:.0f} | {'yes' if ok else 'NO'} |",
        f"<!-- {label}: exit {run.exit_code}, wall {run.wall:.1f} s, surfaced failures {surfaced} -->",
    ]


def large(rows: int, workdir: Path) -> list[str]:
    path = workdir / "large.jsonl"
    write_rows(path, rows, "large")
    size = path.stat().st_size / 2**20
    dry = measure([str(path), "--dry-run"], environment(None, api_key=None))
    assert dry.exit_code == 0, dry.stdout[-2000:] + dry.stderr[-2000:]
    lines = [
        f"| dry run | {rows} | {size:.0f} | {dry.wall:.1f} | {dry.cpu / rows * 1e6:.1f} | {dry.peak_rss_mib:.0f} |"
    ]
    with mock_process(rate_limit=RATE) as mock:
        real = measure(
            [str(path), "--progress-interval", "1"],
            environment(mock.base_url),
            stop_when=f"/{rows} rows",  # the total is final (no "reading") once every row is in the journal
        )
    journal = (workdir / "large.jsonl.journal.sqlite").stat().st_size / 2**20
    lines.append(
        f"| send, stopped by SIGINT once all rows were journaled (exit {real.exit_code}) | {rows} | {size:.0f} "
        f"| {real.wall:.1f} | {real.cpu / rows * 1e6:.1f} | {real.peak_rss_mib:.0f} |"
    )
    lines.append(f"<!-- journal size {journal:.0f} MiB -->")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--dry-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-rate", action="store_true")
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        workdir = Path(tmp)
        if not args.skip_rate:
            print()
            print("| run | rows | stored | events, % of 250/s | requests, % of 250/s | span s | requests | server 429s "
                  "| engine retries | dead letters | CPU ms/row | peak RSS MiB | exactly once |")  # fmt: skip
            print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for line in sustained(args.rows, {}, "latency", workdir):
                print(line, flush=True)
            for line in sustained(args.rows, MIXED_FAULTS, "faults", workdir):
                print(line, flush=True)
        if not args.skip_large:
            print()
            print("| run | rows | file MiB | wall s | CPU µs/row | peak RSS MiB |")
            print("|---|---|---|---|---|---|")
            for line in large(args.dry_rows, workdir):
                print(line, flush=True)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}; this script's peak RSS {own} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
