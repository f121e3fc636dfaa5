"""Exactly-once under chaos: concurrent senders through the facade against the served mock with mixed faults.

    .venv/bin/python scripts/chaos.py [--events 10000] [--threads 8] [--tasks 24] [--max-seconds 240]
                                      [--fault-scale 1.0] [--json]

The mock runs in its own process (`python -m people_events_mock`, 127.0.0.1, account A limited to 250/s), with
faults switched on through `PUT /_mock/faults`, each with a probability: 500, html-502, reset, empty-429, two
delays (one longer than the client's read timeout, so the client gives up while the server goes on and stores),
500-after-store and reset-after-store. Senders: `--threads` threads, each with its own `PeopleEvents`, and
`--tasks` asyncio tasks sharing one `AsyncPeopleEvents`; all pace to account A's one budget. Half of the events
carry the caller's eventId, the other half let the facade generate one.

Then, through `GET /_mock/events`:

1. every event whose `send` returned is stored exactly once, and every event whose `send` raised at most once;
2. with faults off, every raised event is sent again with its eventId (`err.event_id`), and afterwards every
   event is stored exactly once.

Prints the figures and ends with ``duplicates: N`` and ``lost: N`` (with --json, one JSON object instead); exits 1
if either is above 0, or if anything but a typed error escaped a send. Bounded: at most --events events, no new
event after --max-seconds, each send bounded by the facade's deadline. --fault-scale multiplies every fault's
probability (the bounded test in `make test` runs twice the default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import queue
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from loadkit import machine_note, markdown_table, max_per_rolling_second, read_events

from people_events_client import AsyncPeopleEvents, PeopleEvents, PeopleEventsError
from people_events_mock.fixtures import default_fixtures
from people_events_mock.testing import duplicates_and_lost, mock_process

API_KEY = "mock-api-key"
ACCOUNT = "A"
RATE_LIMIT = 250
SLOW_DELAY_MS = 1500
SHORT_DELAY_MS = 200
READ_TIMEOUT_SECONDS = 1.0
SEND_DEADLINE_SECONDS = 30.0
MAX_RETRIES = 3
#: Fault -> probability per eligible request. The mock tries the rules in this order; the first that fires wins.
DEFAULT_FAULTS: dict[str, float] = {
    "500": 0.03,
    "html-502": 0.03,
    "reset": 0.03,
    "empty-429": 0.03,
    f"delay={SLOW_DELAY_MS}": 0.01,
    f"delay={SHORT_DELAY_MS}": 0.03,
    "500-after-store": 0.03,
    "reset-after-store": 0.03,
}
#: Account A's fixture persons, one per identifier type (the mock's own fixtures, so a new type is covered at once).
PERSONS = [(person.identifier_type, person.person_id) for person in default_fixtures().account(ACCOUNT).persons]
LATE_STORE_MARGIN_SECONDS = 0.5

Key = tuple[str, str, str]
"""(identifierType, personId, eventId): one logical event, the mock's idempotency key within account A."""


@dataclass(frozen=True, slots=True)
class Spec:
    """One event to send."""

    number: int
    identifier_type: str
    person_id: str
    event_id: str | None  # None: the facade generates one
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What `send` did with one event: returned (the recorded eventId) or raised (the error's class and eventId)."""

    spec: Spec
    event_id: str | None
    error: str | None = None

    @property
    def key(self) -> Key | None:
        if self.event_id is None:
            return None
        return (self.spec.identifier_type, self.spec.person_id, self.event_id)


def classify(outcome: httpx.Response | Exception, elapsed: float) -> str:
    """The kind of one attempt's outcome as the client saw it (the mock does not report the faults it fired)."""
    if isinstance(outcome, Exception):
        if isinstance(outcome, httpx.TimeoutException):
            return f"timeout (delay={SLOW_DELAY_MS} > read timeout)"
        if isinstance(outcome, httpx.RemoteProtocolError):
            return "dropped (reset, reset-after-store)"
        return f"error {type(outcome).__name__}"
    status = outcome.status_code
    if status == 201:
        return f"201 after delay={SHORT_DELAY_MS}" if elapsed >= SHORT_DELAY_MS / 1000 * 0.9 else "201"
    if status == 500:
        return "500 JSON (500, 500-after-store)"
    if status == 502 and outcome.headers.get("content-type", "").startswith("text/html"):
        return "502 HTML (html-502)"
    if status == 429:
        return "429 empty (empty-429)" if not outcome.content else "429 rate limit (real)"
    return f"status {status}"


class CountingTransport(httpx.HTTPTransport):
    """The real transport, classifying every attempt (the facade's retries included)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.attempts: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = super().handle_request(request)
            response.read()
        except httpx.TransportError as err:
            self.attempts[classify(err, time.perf_counter() - started)] += 1
            raise
        self.attempts[classify(response, time.perf_counter() - started)] += 1
        return response


class AsyncCountingTransport(httpx.AsyncHTTPTransport):
    """The asyncio twin of `CountingTransport` (used from one event loop)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.attempts: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await super().handle_async_request(request)
            await response.aread()
        except httpx.TransportError as err:
            self.attempts[classify(err, time.perf_counter() - started)] += 1
            raise
        self.attempts[classify(response, time.perf_counter() - started)] += 1
        return response


@dataclass
class Report:
    """The figures of one run."""

    events: int = 0
    threads: int = 0
    tasks: int = 0
    faults: dict[str, float] = field(default_factory=dict)
    attempts: Counter[str] = field(default_factory=Counter)
    returned: int = 0
    raised: Counter[str] = field(default_factory=Counter)
    escaped: list[str] = field(default_factory=list)  # anything but a PeopleEventsError (must stay empty)
    wrong_event_ids: int = 0  # a caller's eventId that came back different (must stay 0)
    seconds: float = 0.0
    stored_after_faults: int = 0
    raised_stored_before_resend: int = 0
    resent: int = 0
    resend_failures: list[str] = field(default_factory=list)
    max_per_rolling_second: int = 0
    duplicates: int = 0
    lost: int = 0

    @property
    def total_attempts(self) -> int:
        return sum(self.attempts.values())

    @property
    def faults_observed(self) -> int:
        return sum(count for kind, count in self.attempts.items() if kind not in ("201", "429 rate limit (real)"))

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.lost or self.escaped or self.wrong_event_ids)


def make_specs(count: int) -> list[Spec]:
    specs = []
    for number in range(count):
        identifier_type, person_id = PERSONS[number % len(PERSONS)]
        event_id = f"chaos-{number}" if number % 2 == 0 else None
        properties = {"transactionId": f"chaos-{number}", "totalCost": number % 500 + 0.5}
        specs.append(Spec(number, identifier_type, person_id, event_id, properties))
    return specs


def _record(spec: Spec, result: Any, err: BaseException | None, outcomes: list[Outcome], report: Report) -> None:
    if err is None:
        outcomes.append(Outcome(spec, result.event_id))
        if spec.event_id is not None and result.event_id != spec.event_id:
            report.wrong_event_ids += 1
    elif isinstance(err, PeopleEventsError):
        outcomes.append(Outcome(spec, err.event_id, type(err).__name__))
    else:
        report.escaped.append(f"{type(err).__name__}: {err}")


def _facade_options(timeout: httpx.Timeout) -> dict[str, Any]:
    return {"timeout": timeout, "max_retries": MAX_RETRIES, "deadline": SEND_DEADLINE_SECONDS}


def _thread_sender(
    base_url: str,
    work: queue.Queue[Spec],
    stop_at: float,
    outcomes: list[Outcome],
    report: Report,
    lock: threading.Lock,
) -> Counter[str]:
    transport = CountingTransport()
    timeout = httpx.Timeout(READ_TIMEOUT_SECONDS, connect=5.0)
    mine: list[Outcome] = []
    with PeopleEvents(
        base_url, API_KEY, http_client_args={"transport": transport}, **_facade_options(timeout)
    ) as people:
        while time.monotonic() < stop_at:
            try:
                spec = work.get_nowait()
            except queue.Empty:
                break
            try:
                event = people.send(spec.person_id, "addToCart", identifier_type=spec.identifier_type,
                                    properties=spec.properties, event_id=spec.event_id)  # fmt: skip
            except Exception as err:
                with lock:
                    _record(spec, None, err, mine, report)
            else:
                with lock:
                    _record(spec, event, None, mine, report)
    with lock:
        outcomes.extend(mine)
    return transport.attempts


async def _async_senders(
    base_url: str, tasks: int, work: queue.Queue[Spec], stop_at: float, outcomes: list[Outcome], report: Report,
    lock: threading.Lock,
) -> Counter[str]:  # fmt: skip
    transport = AsyncCountingTransport()
    timeout = httpx.Timeout(READ_TIMEOUT_SECONDS, connect=5.0)

    async def sender(people: AsyncPeopleEvents) -> None:
        while time.monotonic() < stop_at:
            try:
                spec = work.get_nowait()
            except queue.Empty:
                return
            try:
                event = await people.send(spec.person_id, "addToCart", identifier_type=spec.identifier_type,
                                          properties=spec.properties, event_id=spec.event_id)  # fmt: skip
            except Exception as err:
                with lock:
                    _record(spec, None, err, outcomes, report)
            else:
                with lock:
                    _record(spec, event, None, outcomes, report)

    options = _facade_options(timeout)
    async with AsyncPeopleEvents(base_url, API_KEY, http_client_args={"transport": transport}, **options) as people:
        await asyncio.gather(*(sender(people) for _ in range(tasks)))
    return transport.attempts


def stored_keys(base_url: str) -> tuple[list[Key], list[float]]:
    """The key and acceptance time of every event account A stored, read back page by page."""
    events = read_events(base_url, account=ACCOUNT)
    keys = [(event["person"]["identifierType"], event["person"]["personId"], event["eventId"]) for event in events]
    return keys, [float(event["acceptedAt"]) for event in events]


def _send_all(
    base_url: str, specs: list[Spec], *, threads: int, tasks: int, max_seconds: float, report: Report
) -> list[Outcome]:
    """Send every spec from `threads` threads and `tasks` asyncio tasks; fills the report's counters."""
    work: queue.Queue[Spec] = queue.Queue()
    for spec in specs:
        work.put(spec)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    attempts: list[Counter[str]] = []
    started = time.monotonic()
    stop_at = started + max_seconds

    def thread_main() -> None:
        counted = _thread_sender(base_url, work, stop_at, outcomes, report, lock)
        with lock:
            attempts.append(counted)

    workers = [threading.Thread(target=thread_main, name=f"chaos-sender-{n}") for n in range(threads)]
    for worker in workers:
        worker.start()
    if tasks:
        attempts.append(asyncio.run(_async_senders(base_url, tasks, work, stop_at, outcomes, report, lock)))
    for worker in workers:
        worker.join()
    report.seconds = time.monotonic() - started
    report.events = len(outcomes) + len(report.escaped)
    for counted in attempts:
        report.attempts.update(counted)
    return outcomes


def _resend(base_url: str, raised: list[Outcome], report: Report) -> None:
    """Phase 2: send every raised event again with its eventId (faults are off by now)."""
    with PeopleEvents(base_url, API_KEY, max_retries=MAX_RETRIES) as people:
        for outcome in raised:
            report.resent += 1
            if outcome.event_id is None:
                report.resend_failures.append(f"event {outcome.spec.number}: the error carried no eventId")
                continue
            try:
                people.send(outcome.spec.person_id, "addToCart", identifier_type=outcome.spec.identifier_type,
                            properties=outcome.spec.properties, event_id=outcome.event_id)  # fmt: skip
            except PeopleEventsError as err:
                report.resend_failures.append(f"event {outcome.spec.number}: {type(err).__name__} {err}")


def _verify_after_faults(base_url: str, outcomes: list[Outcome], report: Report) -> set[Key]:
    """Phase 1's invariant: a returned event is stored exactly once, a raised one at most once, nothing else is.
    Returns every key a send was made for."""
    returned = [outcome for outcome in outcomes if outcome.error is None]
    raised = [outcome for outcome in outcomes if outcome.error is not None]
    report.returned = len(returned)
    report.raised = Counter(outcome.error for outcome in raised if outcome.error)
    keys, _ = stored_keys(base_url)
    report.stored_after_faults = len(keys)
    stored = set(keys)
    report.raised_stored_before_resend = sum(1 for outcome in raised if outcome.key in stored)
    returned_keys = {outcome.key for outcome in returned if outcome.key is not None}
    all_keys = returned_keys | {outcome.key for outcome in raised if outcome.key is not None}
    report.duplicates, _ = duplicates_and_lost(keys, all_keys)
    report.lost = sum(1 for key in returned_keys if key not in stored)
    return all_keys


def _verify_final(base_url: str, outcomes: list[Outcome], all_keys: set[Key], report: Report) -> None:
    """The final invariant, after the re-send: every event stored exactly once."""
    keys, accepted = stored_keys(base_url)
    duplicates, lost = duplicates_and_lost(keys, all_keys)
    report.duplicates = max(report.duplicates, duplicates)
    report.lost = max(report.lost, lost) + sum(1 for outcome in outcomes if outcome.key is None)
    report.max_per_rolling_second = max_per_rolling_second(accepted)


def run(
    *, events: int = 10_000, threads: int = 8, tasks: int = 24, max_seconds: float = 240.0,
    faults: dict[str, float] | None = None,
) -> Report:  # fmt: skip
    """One chaos run against a freshly started mock process; returns the figures."""
    faults = dict(DEFAULT_FAULTS if faults is None else faults)
    report = Report(events=events, threads=threads, tasks=tasks, faults=faults)
    with mock_process(rate_limit=RATE_LIMIT) as mock:
        for fault, probability in faults.items():
            rule = {"fault": fault, "probability": probability}
            httpx.put(f"{mock.base_url}/_mock/faults", json=rule, timeout=30).raise_for_status()
        specs = make_specs(events)
        outcomes = _send_all(mock.base_url, specs, threads=threads, tasks=tasks, max_seconds=max_seconds, report=report)
        # Faults off; then wait out requests the server is still delaying (their client gave up), which store late.
        httpx.delete(f"{mock.base_url}/_mock/faults", timeout=30).raise_for_status()
        time.sleep(SLOW_DELAY_MS / 1000 + LATE_STORE_MARGIN_SECONDS)
        all_keys = _verify_after_faults(mock.base_url, outcomes, report)
        _resend(mock.base_url, [outcome for outcome in outcomes if outcome.error is not None], report)
        _verify_final(mock.base_url, outcomes, all_keys, report)
    return report


def print_report(report: Report) -> None:
    print(
        f"Exactly-once under chaos: {report.events} events, {report.threads} threads (PeopleEvents) + "
        f"{report.tasks} asyncio tasks (AsyncPeopleEvents), account {ACCOUNT} at {RATE_LIMIT}/s, "
        f"max_retries={MAX_RETRIES}, read timeout {READ_TIMEOUT_SECONDS:g} s"
    )
    print("faults (PUT /_mock/faults): " + ", ".join(f"{name} p={p:g}" for name, p in report.faults.items()))
    print(f"machine: {machine_note()}\n")
    rows = sorted(report.attempts.items(), key=lambda item: -item[1])
    print(markdown_table(["attempt outcome (client side)", "attempts"], [*rows, ("total", report.total_attempts)]))
    retries = report.total_attempts - report.events
    print(f"\nfaults observed: {report.faults_observed} ({report.faults_observed / max(1, report.total_attempts):.1%}"
          f" of attempts); retries: {retries} ({retries / max(1, report.events):.2f} per event)")  # fmt: skip
    print(f"returned: {report.returned}; raised: {sum(report.raised.values())} {dict(report.raised)}")
    print(f"raised but stored anyway (after-store faults, late delays): {report.raised_stored_before_resend}")
    print(f"stored after the faulty phase: {report.stored_after_faults}")
    print(f"re-sent with their eventId, faults off: {report.resent}; failures: {len(report.resend_failures)}")
    for failure in report.resend_failures[:10]:
        print(f"  {failure}")
    if report.escaped:
        print(f"ESCAPED (not a PeopleEventsError): {len(report.escaped)}, e.g. {report.escaped[:3]}")
    if report.wrong_event_ids:
        print(f"WRONG eventId returned for a caller's eventId: {report.wrong_event_ids}")
    print(f"throughput: {report.events / report.seconds:.0f} events/s, {report.total_attempts / report.seconds:.0f}"
          f" attempts/s over {report.seconds:.1f} s; most acceptances in any rolling second: "
          f"{report.max_per_rolling_second} (limit {RATE_LIMIT})")  # fmt: skip
    print(f"duplicates: {report.duplicates}")
    print(f"lost: {report.lost}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="events to send (default 10000)")
    parser.add_argument("--threads", type=int, default=8, help="sender threads, one PeopleEvents each (default 8)")
    parser.add_argument("--tasks", type=int, default=24, help="asyncio sender tasks on one AsyncPeopleEvents (24)")
    parser.add_argument("--max-seconds", type=float, default=240.0, help="no new event after this (default 240)")
    parser.add_argument("--fault-scale", type=float, default=1.0, help="multiply every fault's probability (1.0)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    faults = {fault: min(1.0, p * args.fault_scale) for fault, p in DEFAULT_FAULTS.items()}
    report = run(
        events=args.events, threads=args.threads, tasks=args.tasks, max_seconds=args.max_seconds, faults=faults
    )
    if args.json:
        # Not dataclasses.asdict: it rebuilds a Counter from (key, count) pairs, counting the pairs.
        figures = {name: dict(value) if isinstance(value, dict) else value for name, value in vars(report).items()}
        print(json.dumps({**figures, "total_attempts": report.total_attempts,
                          "faults_observed": report.faults_observed, "ok": report.ok}))  # fmt: skip
    else:
        print_report(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
