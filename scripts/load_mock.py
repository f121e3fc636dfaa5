"""Mock under load: concurrent keep-alive connections against the served mock, bounded in time.

    .venv/bin/python scripts/load_mock.py [--connections 200] [--seconds 20] [--json]

The mock runs in its own process (`python -m people_events_mock`, 127.0.0.1, accounts A and B limited to
250/s each). Half of the connections send Send Event for account A, half for account B, each on one keep-alive
connection, as fast as the server answers, for --seconds; a minimal asyncio HTTP/1.1 client keeps the
generator cheap. Checks, printed as figures:

- no 5xx and no connection errors (and each connection is opened once: keep-alive holds); 429s are counted;
- memory settles: the server's RSS (psutil) at start, after warm-up, in the middle and at the end;
- the limiter is exact under concurrency: by the acceptance times the server stored (`GET /_mock/events`), no
  rolling second of either account holds more than 250 accepted events.

Exits 1 when a check fails. With --json it prints the figures as one JSON object instead of tables (for
tests/reliability/test_load.py). Traffic goes to 127.0.0.1 only; the server is started here and stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import loadkit
import psutil

from people_events_mock.testing import mock_process

RATE_LIMIT = 250
ACCOUNTS = {"A": "App mock-api-key", "B": "App mock-api-key-b"}
WARMUP_FRACTION = 0.1
#: Memory settles when the server's RSS grows from the middle of the run to its end by no more than the events
#: it stored meanwhile explain (the store keeps every accepted event, under 1 KiB each, at most 250 a second per
#: account), plus allocator slack. A leak per request, at thousands of requests a second, would be far larger.
MAX_BYTES_PER_STORED_EVENT = 2048
RSS_SLACK_BYTES = 4 * 1024 * 1024
_GRACE_SECONDS = 30.0


@dataclass
class LoadReport:
    """The figures of one run."""

    connections: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    connects: int = 0
    latencies: list[float] = field(default_factory=list)
    bad_429s: int = 0  # 429s without Retry-After or without the JSON envelope
    rss: dict[str, int] = field(default_factory=dict)  # label -> bytes
    middle_at: float = 0.0  # POSIX time of the middle RSS sample
    stored_since_middle: int = 0
    accepted: dict[str, int] = field(default_factory=dict)
    max_per_second: dict[str, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def connection_errors(self) -> int:
        return sum(self.errors.values())

    @property
    def settled_growth(self) -> int:
        return self.rss["end"] - self.rss["middle"]

    @property
    def allowed_growth(self) -> int:
        return self.stored_since_middle * MAX_BYTES_PER_STORED_EVENT + RSS_SLACK_BYTES

    @property
    def limiter_exact(self) -> bool:
        return all(count <= RATE_LIMIT for count in self.max_per_second.values())

    def failures(self) -> list[str]:
        problems = []
        if self.server_errors:
            problems.append(f"{self.server_errors} responses were 5xx")
        if self.connection_errors or self.connects != self.connections:
            problems.append(f"{self.connection_errors} connection errors, {self.connects} connects")
        if set(self.statuses) - {201, 429}:
            problems.append(f"unexpected statuses {dict(self.statuses)}")
        if self.bad_429s:
            problems.append(f"{self.bad_429s} 429s without Retry-After or the JSON envelope")
        if not self.limiter_exact:
            problems.append(f"a rolling second accepted more than {RATE_LIMIT}: {self.max_per_second}")
        if self.settled_growth > self.allowed_growth:
            problems.append(
                f"RSS grew {self.settled_growth / 2**20:.1f} MiB from the middle to the end, more than the "
                f"{self.stored_since_middle} events stored meanwhile explain ({self.allowed_growth / 2**20:.1f} MiB)"
            )
        return problems


def _good_429(headers: dict[str, str], content: bytes) -> bool:
    try:
        message_id = json.loads(content)["requestError"]["serviceException"]["messageId"]
    except (ValueError, KeyError, TypeError):
        return False
    return headers.get("retry-after", "").isdigit() and message_id == "TOO_MANY_REQUESTS"


async def _connection_loop(port: int, number: int, stop_at: float, report: LoadReport) -> None:
    account = "A" if number % 2 == 0 else "B"
    connection = loadkit.RawConnection(port, ACCOUNTS[account])
    path = "/peopleevents/2/persons/1001/definitions/addToCart/events?identifierType=ID"
    sent = 0
    try:
        while time.monotonic() < stop_at:
            sent += 1
            body = json.dumps({"eventId": f"load-{number}-{sent}", "properties": {"totalCost": sent}}).encode()
            started = time.perf_counter()
            try:
                status, headers, content = await connection.post(path, body)
            except loadkit.RAW_ERRORS as err:
                report.errors[type(err).__name__] += 1
                continue
            report.latencies.append(time.perf_counter() - started)
            report.statuses[status] += 1
            if status == 429 and not _good_429(headers, content):
                report.bad_429s += 1
    finally:
        report.connects += connection.connects
        await connection.close()


async def _sample_rss(process: psutil.Process, started: float, seconds: float, report: LoadReport) -> None:
    report.rss["start"] = process.memory_info().rss
    for label, at in (("warm", WARMUP_FRACTION), ("middle", 0.5), ("end", 1.0)):
        await asyncio.sleep(max(0.0, started + seconds * at - time.monotonic() - (0.05 if label == "end" else 0)))
        report.rss[label] = process.memory_info().rss
        if label == "middle":
            report.middle_at = time.time()


async def _load(port: int, pid: int, connections: int, seconds: float, report: LoadReport) -> None:
    started = time.monotonic()
    stop_at = started + seconds
    loops = [_connection_loop(port, number, stop_at, report) for number in range(connections)]
    sampler = _sample_rss(psutil.Process(pid), started, seconds, report)
    await asyncio.wait_for(asyncio.gather(sampler, *loops), timeout=seconds + _GRACE_SECONDS)


def run(*, connections: int = 200, seconds: float = 20.0) -> LoadReport:
    """One bounded load run against a freshly started mock process; returns the figures."""
    report = LoadReport(connections=connections, seconds=seconds)
    with mock_process(rate_limit=RATE_LIMIT) as mock:
        loadkit.run_async(_load(mock.port, mock.pid, connections, seconds, report))
        time.sleep(1.0)
        report.rss["idle"] = psutil.Process(mock.pid).memory_info().rss
        for account in ACCOUNTS:
            times = [float(event["acceptedAt"]) for event in loadkit.read_events(mock.base_url, account=account)]
            report.accepted[account] = len(times)
            report.stored_since_middle += sum(1 for at in times if at >= report.middle_at)
            report.max_per_second[account] = loadkit.max_per_rolling_second(times)
    return report


def as_json(report: LoadReport) -> dict[str, Any]:
    """The report's figures and verdict as one JSON object."""
    figures = asdict(report)
    figures.pop("latencies")
    figures["statuses"] = {str(status): count for status, count in report.statuses.items()}
    return {
        **figures,
        "requests": report.requests,
        "server_errors": report.server_errors,
        "connection_errors": report.connection_errors,
        "settled_growth": report.settled_growth,
        "allowed_growth": report.allowed_growth,
        "p50_ms": loadkit.percentile_ms(report.latencies, 0.5),
        "p99_ms": loadkit.percentile_ms(report.latencies, 0.99),
        "failures": report.failures(),
        "rate_limit": RATE_LIMIT,
    }


def print_report(report: LoadReport) -> None:
    seconds = report.seconds
    print(
        f"Mock under load: {report.connections} keep-alive connections ({report.connections // 2} account A, "
        f"{report.connections - report.connections // 2} account B), {seconds:g} s, 127.0.0.1, limit {RATE_LIMIT}/s"
        " per account\n"
    )
    print("| requests | req/s | 201 | 429 | 5xx | other | connection errors | connects | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    other = report.requests - report.statuses[201] - report.statuses[429] - report.server_errors
    print(
        f"| {report.requests} | {report.requests / seconds:.0f} | {report.statuses[201]} | {report.statuses[429]} "
        f"| {report.server_errors} | {other} | {report.connection_errors} | {report.connects} "
        f"| {loadkit.percentile_ms(report.latencies, 0.5):.1f} | {loadkit.percentile_ms(report.latencies, 0.99):.1f} |"
    )
    print("\n| account | accepted (stored) | accepted/s | most in any rolling second | limit |")
    print("|---|---|---|---|---|")
    for account, accepted in report.accepted.items():
        print(
            f"| {account} | {accepted} | {accepted / seconds:.1f} | {report.max_per_second[account]} | {RATE_LIMIT} |"
        )
    mib = {label: value / 2**20 for label, value in report.rss.items()}
    print("\n| server RSS MiB | start | after warm-up | middle | end | idle 1 s later |")
    print("|---|---|---|---|---|---|")
    print(f"| | {mib['start']:.1f} | {mib['warm']:.1f} | {mib['middle']:.1f} | {mib['end']:.1f} | {mib['idle']:.1f} |")
    print(f"\n5xx: {report.server_errors}")
    print(f"connection errors: {report.connection_errors}")
    print(f"429s: {report.statuses[429]} (all with Retry-After and the JSON envelope: {report.bad_429s == 0})")
    print(f"limiter exact: {report.limiter_exact}")
    print(
        f"memory, middle to end: {report.settled_growth / 2**20:+.1f} MiB with {report.stored_since_middle} events "
        f"stored meanwhile ({report.settled_growth / max(1, report.stored_since_middle):.0f} bytes per stored event, "
        f"{report.settled_growth / max(1, report.requests // 2):.0f} per request; allowed "
        f"{report.allowed_growth / 2**20:.1f} MiB)"
    )
    for problem in report.failures():
        print(f"FAILED: {problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=200, help="keep-alive connections (default 200)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of load (default 20)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    if not 1 <= args.connections <= 1000 or not 0 < args.seconds <= 300:
        parser.error("keep it bounded: 1-1000 connections, 0-300 seconds")
    report = run(connections=args.connections, seconds=args.seconds)
    if args.json:
        print(json.dumps(as_json(report)))
    else:
        print(f"{loadkit.machine_note()}\n")
        print_report(report)
    return 1 if report.failures() else 0


if __name__ == "__main__":
    sys.exit(main())
