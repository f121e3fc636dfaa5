"""Throughput of the reference mock (uvicorn, 1 worker) beside `prism mock openapi.yaml`, on loopback.

A bounded load generator: N concurrent keep-alive httpx clients (one connection each) send the
same request mix to each target for a fixed duration, after a warm-up, then stop. The mix is Send
Event for account F (rate limit lifted) with the seed's properties, a fresh eventId per request,
rotating over F's 20 fixture persons (one per identifier type). A send is successful on 201.

    .venv/bin/python scripts/bench_mock.py [--duration 10] [--concurrency 32] [--targets mock,prism] [--client raw]

Prints a table: sends, successful sends per second, p50/p99 latency in ms, other statuses, errors,
and the server's CPU use (share of one core, and CPU milliseconds per send). On 2 cores an httpx
generator saturates before the mock does; `--client raw` uses a minimal asyncio HTTP/1.1 client
instead, so that the server is the bottleneck.
Traffic goes to 127.0.0.1 only; each server is started here and stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from raw_http import ERRORS as RAW_ERRORS
from raw_http import RawConnection

from people_events_mock.samples import seed_properties

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "openapi.yaml"
PRISM = REPO / "node_modules" / ".bin" / "prism"
HOST = "127.0.0.1"
AUTH = {"Authorization": "App mock-fuzz-key"}
STARTUP_TIMEOUT_SECONDS = 30.0
PROPERTIES = seed_properties()
IDENTIFIER_TYPES = [
    "ID", "EXTERNAL_ID", "PHONE", "EMAIL", "LINE", "FACEBOOK", "TELEGRAM", "PUSH", "WEB_PUSH", "LIVE_CHAT",
    "VIBER_BOTS", "INSTAGRAM", "INSTAGRAM_DM", "TWITTER", "APPLE_BUSINESS_CHAT", "KAKAO_SANGDAM",
    "GOOGLE_BUSINESS_MESSAGES", "WHATSAPP", "ZALO_FOLLOWER", "TIKTOK_BM",
]  # fmt: skip
SPECIAL_PERSONS = {"EMAIL": "jane.doe@example.com", "PHONE": "41793026727", "EXTERNAL_ID": "crm-1001", "ID": "1001"}
PERSONS = [(kind, SPECIAL_PERSONS.get(kind, f"{kind.lower()}-1")) for kind in IDENTIFIER_TYPES]


@dataclass
class Result:
    """What one target did during the measured window."""

    target: str
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, 201s only
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    server_cpu_seconds: float = 0.0  # CPU time the server process used while measured

    @property
    def successes(self) -> int:
        return self.statuses[201]

    def percentile_ms(self, fraction: float) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=1000, method="inclusive")[round(fraction * 1000) - 1] * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("server did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far, from /proc (Linux); NaN elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running(command: list[str], port: int) -> Iterator[int]:
    """Start a server process, wait for its port, and stop it on exit."""
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(port, process)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def target_command(target: str, port: int) -> list[str]:
    if target == "mock":
        return [
            sys.executable, "-m", "people_events_mock", "--host", HOST, "--port", str(port), "--log-level", "warning",
        ]  # fmt: skip
    return [str(PRISM), "mock", str(SPEC), "--host", HOST, "--port", str(port), "--verboseLevel", "warn"]


async def client_loop(base_url: str, worker: int, measure_from: float, stop_at: float, result: Result) -> None:
    async with httpx.AsyncClient(
        base_url=base_url, headers=AUTH, timeout=10, limits=httpx.Limits(max_connections=1)
    ) as client:
        number = 0
        while (now := time.perf_counter()) < stop_at:
            identifier_type, person_id = PERSONS[(worker + number) % len(PERSONS)]
            number += 1
            url = f"/peopleevents/2/persons/{person_id}/definitions/addToCart/events?identifierType={identifier_type}"
            body = {"eventId": f"bench-{worker}-{number}", "properties": PROPERTIES}
            try:
                response = await client.post(url, json=body)
            except httpx.HTTPError as exc:
                if now >= measure_from:
                    result.errors[type(exc).__name__] += 1
                continue
            if now >= measure_from:
                result.statuses[response.status_code] += 1
                if response.status_code == 201:
                    result.latencies.append(time.perf_counter() - now)


async def raw_client_loop(port: int, worker: int, measure_from: float, stop_at: float, result: Result) -> None:
    async with RawConnection(port, AUTH["Authorization"]) as client:
        number = 0
        while (now := time.perf_counter()) < stop_at:
            identifier_type, person_id = PERSONS[(worker + number) % len(PERSONS)]
            number += 1
            url = f"/peopleevents/2/persons/{person_id}/definitions/addToCart/events?identifierType={identifier_type}"
            body = json.dumps({"eventId": f"bench-{worker}-{number}", "properties": PROPERTIES}).encode()
            try:
                status, _, _ = await client.post(url, body)
            except RAW_ERRORS as exc:
                if now >= measure_from:
                    result.errors[type(exc).__name__] += 1
                continue
            if now >= measure_from:
                result.statuses[status] += 1
                if status == 201:
                    result.latencies.append(time.perf_counter() - now)


async def load(
    port: int, target: str, server: int, *, client: str, concurrency: int, warmup: float, duration: float
) -> Result:
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    result = Result(target=target, seconds=duration)

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        before = cpu_seconds(server)
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        result.server_cpu_seconds = cpu_seconds(server) - before

    if client == "raw":
        loops = [raw_client_loop(port, worker, measure_from, stop_at, result) for worker in range(concurrency)]
    else:
        base_url = f"http://{HOST}:{port}"
        loops = [client_loop(base_url, worker, measure_from, stop_at, result) for worker in range(concurrency)]
    await asyncio.gather(sample_cpu(), *loops)
    return result


def bench(target: str, *, client: str, concurrency: int, warmup: float, duration: float) -> Result:
    port = free_port()
    with running(target_command(target, port), port) as server:
        return asyncio.run(
            load(port, target, server, client=client, concurrency=concurrency, warmup=warmup, duration=duration)
        )


def print_table(results: list[Result], *, client: str, concurrency: int, duration: float) -> None:
    print(
        f"\n{concurrency} keep-alive {client} clients, {duration:g} s measured per target; "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}\n"
    )
    header = (
        f"| {'target':<38} | {'sends':>7} | {'201/s':>7} | {'p50 ms':>7} | {'p99 ms':>7} | {'non-201':>7} "
        f"| {'errors':>6} | {'server CPU':>10} | {'CPU ms/send':>11} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(part)) for part in header.split("|")[1:-1]) + "|")
    for result in results:
        name = "people_events_mock (uvicorn, 1 worker)" if result.target == "mock" else "prism mock 5.14.2"
        total = sum(result.statuses.values())
        cpu_share = result.server_cpu_seconds / result.seconds
        cpu_per_send = result.server_cpu_seconds * 1000 / max(1, total)
        print(
            f"| {name:<38} | {total:>7} | {result.successes / result.seconds:>7.0f} | "
            f"{result.percentile_ms(0.50):>7.2f} | {result.percentile_ms(0.99):>7.2f} | "
            f"{total - result.successes:>7} | {sum(result.errors.values()):>6} | "
            f"{cpu_share:>10.0%} | {cpu_per_send:>11.3f} |"
        )
    for result in results:
        others = {status: count for status, count in result.statuses.items() if status != 201}
        if others or result.errors:
            print(f"{result.target}: other statuses {others}, errors {dict(result.errors)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per target (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first (default 2)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent keep-alive clients (default 32)")
    parser.add_argument("--targets", default="mock,prism", help="comma-separated: mock, prism (default both)")
    parser.add_argument(
        "--client",
        choices=["httpx", "raw"],
        default="httpx",
        help="httpx.AsyncClient per connection (default), or a minimal asyncio HTTP/1.1 client that can saturate",
    )
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 120 or not 0 < args.concurrency <= 512:
        parser.error("keep it bounded: 0 < duration <= 120 s, 0 < concurrency <= 512")
    targets = [target.strip() for target in args.targets.split(",") if target.strip()]
    if "prism" in targets and not (PRISM.exists() or shutil.which("prism")):
        print("prism is not installed (npm ci); skipping it", file=sys.stderr)
        targets.remove("prism")
    results = [
        bench(target, client=args.client, concurrency=args.concurrency, warmup=args.warmup, duration=args.duration)
        for target in targets
    ]
    print_table(results, client=args.client, concurrency=args.concurrency, duration=args.duration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
