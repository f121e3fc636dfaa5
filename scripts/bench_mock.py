"""Throughput of the reference mock (uvicorn + httptools + uvloop, 1 worker) beside `prism mock openapi.yaml`.

A bounded load generator: N concurrent keep-alive clients (one connection each) send the same request mix to
each target for a fixed duration, after a warm-up, then stop. The mix is Send Event for account F (rate limit
lifted) with the seed's properties, a fresh eventId per request, rotating over F's 20 fixture persons (one per
identifier type). A send is successful on 201. Targets alternate for --rounds rounds, so that both see the same
machine load; the figures add the rounds up.

    .venv/bin/python scripts/bench_mock.py [--duration 10] [--rounds 2] [--concurrency 32] [--targets mock,prism]
                                           [--client raw|httpx]

Prints a table: sends, successful sends per second, p50/p99 latency in ms, other statuses, errors, and the
server's CPU use (share of one core, and CPU milliseconds per send), with the machine's load average before and
after. `--client raw` (loadkit.RawConnection on uvloop) is cheap enough to saturate a server on 2 cores; the
httpx generator saturates before the mock does. Traffic goes to 127.0.0.1 only; each server is started here and
stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import loadkit

from people_events_mock.samples import seed_properties
from people_events_mock.spec import default_spec

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "openapi.yaml"
PRISM = REPO / "node_modules" / ".bin" / "prism"
AUTH = "App mock-fuzz-key"
PROPERTIES = json.dumps(seed_properties(), separators=(",", ":"))
SPECIAL_PERSONS = {"EMAIL": "jane.doe@example.com", "PHONE": "41793026727", "EXTERNAL_ID": "crm-1001", "ID": "1001"}
PERSONS = [(kind, SPECIAL_PERSONS.get(kind, f"{kind.lower()}-1")) for kind in default_spec().identifier_types]
NAMES = {"mock": "people_events_mock (1 process)", "prism": "prism mock 5.14.2"}


@dataclass
class Result:
    """What one target did during its measured windows."""

    target: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, 201s only
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    server_cpu_seconds: float = 0.0  # CPU time the server process used while measured

    @property
    def successes(self) -> int:
        return self.statuses[201]

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


def request(worker: int, number: int) -> tuple[str, bytes]:
    """The path and body of one send: a fresh eventId, the next of F's persons."""
    identifier_type, person_id = PERSONS[(worker + number) % len(PERSONS)]
    path = f"/peopleevents/2/persons/{person_id}/definitions/addToCart/events?identifierType={identifier_type}"
    return path, f'{{"eventId":"bench-{worker}-{number}","properties":{PROPERTIES}}}'.encode()


def target_command(target: str, port: int) -> list[str]:
    if target == "mock":
        return [
            sys.executable, "-m", "people_events_mock", "--host", loadkit.HOST, "--port", str(port),
            "--log-level", "warning",
        ]  # fmt: skip
    return [str(PRISM), "mock", str(SPEC), "--host", loadkit.HOST, "--port", str(port), "--verboseLevel", "warn"]


async def httpx_loop(port: int, worker: int, measure_from: float, stop_at: float, result: Result) -> None:
    async with httpx.AsyncClient(
        base_url=f"http://{loadkit.HOST}:{port}",
        headers={"Authorization": AUTH, "Content-Type": "application/json"},
        timeout=10,
        limits=httpx.Limits(max_connections=1),
    ) as client:
        number = 0
        while (now := time.perf_counter()) < stop_at:
            number += 1
            path, body = request(worker, number)
            try:
                response = await client.post(path, content=body)
            except httpx.HTTPError as exc:
                if now >= measure_from:
                    result.errors[type(exc).__name__] += 1
                continue
            if now >= measure_from:
                result.statuses[response.status_code] += 1
                if response.status_code == 201:
                    result.latencies.append(time.perf_counter() - now)


async def raw_loop(port: int, worker: int, measure_from: float, stop_at: float, result: Result) -> None:
    async with loadkit.RawConnection(port, AUTH) as client:
        number = 0
        while (now := time.perf_counter()) < stop_at:
            number += 1
            path, body = request(worker, number)
            try:
                status, _, _ = await client.post(path, body)
            except loadkit.RAW_ERRORS as exc:
                if now >= measure_from:
                    result.errors[type(exc).__name__] += 1
                continue
            if now >= measure_from:
                result.statuses[status] += 1
                if status == 201:
                    result.latencies.append(time.perf_counter() - now)


async def load(
    port: int, server: int, result: Result, *, client: str, concurrency: int, warmup: float, duration: float
) -> None:
    measure_from = time.perf_counter() + warmup
    stop_at = measure_from + duration

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        before = loadkit.cpu_seconds(server)
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        result.server_cpu_seconds += loadkit.cpu_seconds(server) - before

    loop = raw_loop if client == "raw" else httpx_loop
    await asyncio.gather(
        sample_cpu(), *(loop(port, worker, measure_from, stop_at, result) for worker in range(concurrency))
    )
    result.seconds += duration


def bench(target: str, result: Result, *, client: str, concurrency: int, warmup: float, duration: float) -> None:
    port = loadkit.free_port()
    with loadkit.start_server(target_command(target, port), port, cwd=REPO) as server:
        loadkit.run_async(
            load(port, server, result, client=client, concurrency=concurrency, warmup=warmup, duration=duration)
        )


def table(results: list[Result]) -> str:
    rows = []
    for result in results:
        rows.append(
            [
                NAMES[result.target],
                result.total,
                round(result.successes / result.seconds),
                f"{loadkit.percentile_ms(result.latencies, 0.50):.2f}",
                f"{loadkit.percentile_ms(result.latencies, 0.99):.2f}",
                result.total - result.successes,
                sum(result.errors.values()),
                f"{result.server_cpu_seconds / result.seconds:.0%}",
                f"{result.server_cpu_seconds * 1000 / max(1, result.total):.3f}",
            ]
        )
    header = ["target", "sends", "201/s", "p50 ms", "p99 ms", "non-201", "errors", "server CPU", "CPU ms/send"]
    return loadkit.markdown_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per target and round (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first, each round (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, targets alternating in each (default 2)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent keep-alive clients (default 32)")
    parser.add_argument("--targets", default="mock,prism", help="comma-separated: mock, prism (default both)")
    parser.add_argument(
        "--client", choices=["httpx", "raw"], default="raw", help="generator: raw HTTP/1.1 on uvloop (default), httpx"
    )
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 120 or not 0 < args.concurrency <= 512 or not 1 <= args.rounds <= 10:
        parser.error("keep it bounded: 0 < duration <= 120 s, 0 < concurrency <= 512, 1 <= rounds <= 10")
    targets = [target.strip() for target in args.targets.split(",") if target.strip()]
    if "prism" in targets and not (PRISM.exists() or shutil.which("prism")):
        print("prism is not installed (npm ci); skipping it", file=sys.stderr)
        targets.remove("prism")
    results = {target: Result(target) for target in targets}
    before = loadkit.machine_note()
    for _ in range(args.rounds):
        for target in targets:
            options = {"concurrency": args.concurrency, "warmup": args.warmup, "duration": args.duration}
            bench(target, results[target], client=args.client, **options)
    print(
        f"\n{args.concurrency} keep-alive {args.client} clients, {args.rounds} x {args.duration:g} s measured per "
        f"target (alternating); before: {before}; after: {loadkit.machine_note()}\n"
    )
    print(table(list(results.values())))
    for result in results.values():
        others = {status: count for status, count in result.statuses.items() if status != 201}
        if others or result.errors:
            print(f"{result.target}: other statuses {others}, errors {dict(result.errors)}")
    if {"mock", "prism"} <= results.keys() and results["prism"].successes:
        mock, prism = results["mock"], results["prism"]
        p99 = loadkit.percentile_ms(mock.latencies, 0.99), loadkit.percentile_ms(prism.latencies, 0.99)
        print(
            f"\nmock / prism: {mock.successes / prism.successes:.2f}x the 201s; p99 {p99[0]:.2f} ms vs {p99[1]:.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
