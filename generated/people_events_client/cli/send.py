# copied from codegen/overlay/cli/send.py by `make regenerate`; edit there, never here.
"""``people-events send``: a file's rows, through the journal and the delivery engine, exactly once.

Exit codes: 0 every row sent; 1 some rows dead-lettered; 2 usage or input error (nothing sent for the
rows concerned); 130 interrupted (Ctrl-C or SIGTERM): run the same command again to resume.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .. import AsyncPeopleEvents
from ..delivery import (
    Claimed,
    Counts,
    Drainer,
    DrainStats,
    Invalid,
    InvalidItem,
    Outcome,
    Rejected,
    Retry,
    Sent,
    StoreError,
)
from .common import EXIT_DEAD_LETTERS, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, credentials, facades
from .dead_letters import write_dead_letters
from .ingest import Ingest, examine
from .journal import InputState, Journal, JournalError, open_journal
from .progress import Display, Snapshot, make_display
from .rows import CsvHeader, InputError, Row, TrackedInput, csv_rows, jsonl_rows, read_csv_header

STOP_GRACE_SECONDS = 5.0
"""After Ctrl-C, sends in flight get this long to finish; then they are left to the journal (resent next run)."""
RATE_WINDOW_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class SendOptions:
    file: str
    format: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    journal: str | None = None
    dead_letter: str | None = None
    rate_limit: int = 250
    concurrency: int = 64
    redis: str | None = None
    dry_run: bool = False
    progress_interval: float = 5.0


def input_format(options: SendOptions) -> str:
    if options.format is not None:
        return options.format
    return "csv" if options.file.lower().endswith(".csv") else "jsonl"


@contextlib.contextmanager
def open_input(name: str) -> Iterator[IO[bytes]]:
    if name == "-":
        yield sys.stdin.buffer
        return
    try:
        stream = open(name, "rb")  # noqa: SIM115 - closed below
    except OSError as err:
        raise UsageError(f"cannot read {name}: {err.strerror}") from None
    with stream:
        yield stream


def read_rows(source: TrackedInput, fmt: str, header: CsvHeader | None) -> Iterator[Row]:
    if fmt == "csv":
        assert header is not None
        return csv_rows(source, header)
    return jsonl_rows(source)


def dry_run(options: SendOptions, out: IO[str]) -> int:
    """Validate every row locally; print each problem with its line number; send nothing."""
    fmt = input_format(options)
    rows = bad = 0
    with open_input(options.file) as stream:
        source = TrackedInput(stream)
        header = read_csv_header(source) if fmt == "csv" else None
        for row in read_rows(source, fmt, header):
            rows += 1
            item = examine(row)
            if isinstance(item, InvalidItem):
                bad += 1
                for name, messages in item.problems.items():
                    for message in messages:
                        out.write(f"{options.file}:{row.line}: {name}: {message}\n")
    out.write(f"dry run: {rows} rows, {bad} with problems, {rows - bad} valid; nothing was sent\n")
    return EXIT_USAGE if bad else EXIT_OK


def _paths(options: SendOptions) -> tuple[Path, Path]:
    if options.file == "-" and options.journal is None:
        raise UsageError("reading from standard input needs --journal PATH (to resume, run again with the same PATH)")
    journal = Path(options.journal or f"{options.file}.journal.sqlite")
    if options.dead_letter is not None:
        return journal, Path(options.dead_letter)
    if options.file != "-":
        return journal, Path(f"{options.file}.rejected.jsonl")
    return journal, journal.with_name(journal.name.removesuffix(".journal.sqlite") + ".rejected.jsonl")


def _changed(options: SendOptions, state: InputState, why: str) -> JournalError:
    return JournalError(
        f"{options.file} has changed since the journal started on it ({why}); nothing was sent. The journal read "
        f"{state.rows} rows ({state.lines} lines, {state.bytes} bytes, SHA-256 {state.sha256[:16]}...). To finish "
        "that run, restore the file. To send the file as it is now, start a new journal (--journal NEW_PATH): rows "
        "that did not change keep their eventIds, so the server will not store them twice; edited rows are new events"
    )


def _bind_input(
    journal: Journal, source: TrackedInput, options: SendOptions, fmt: str, base_url: str
) -> tuple[InputState, CsvHeader | None]:
    """The journal's input state after checking that this input is the one it was started on."""
    state = journal.input_state()
    if state is None:
        header = read_csv_header(source) if fmt == "csv" else None
        state = InputState(
            format=fmt,
            header=None if header is None else header.columns,
            base_url=base_url,
            bytes=source.bytes,
            lines=source.lines,
            sha256=source.digest(),
        )
        journal.start(state)
        return state, header
    if state.format != fmt:
        raise JournalError(f"the journal {journal.path} was started with --format {state.format}, not {fmt}")
    if state.base_url != base_url:
        raise JournalError(
            f"the journal {journal.path} was started for {state.base_url}, not {base_url}; "
            "use another --journal to send the file to another account"
        )
    if not source.skip(state.bytes, state.lines) or source.digest() != state.sha256:
        raise _changed(options, state, "the part already read differs")
    if state.complete and source.readline():
        raise _changed(options, state, "it has grown")
    return state, None if state.header is None else CsvHeader(state.header)


class Tracker:
    """Counts of this run for the progress display (on the event loop's thread only)."""

    def __init__(self, initial: Counts) -> None:
        self.initial = initial
        self.sent = self.rejected = self.invalid = 0
        self.retrying: set[int] = set()
        self._samples: collections.deque[tuple[float, int]] = collections.deque()

    def on_outcome(self, item: Claimed, outcome: Outcome) -> None:
        if isinstance(outcome, Retry):
            self.retrying.add(item.seq)
            return
        self.retrying.discard(item.seq)
        if isinstance(outcome, Sent):
            self.sent += 1
        elif isinstance(outcome, Rejected):
            self.rejected += 1
        elif isinstance(outcome, Invalid):
            self.invalid += 1

    def snapshot(self, ingest: Ingest, limit: int) -> Snapshot:
        done_now = self.sent + self.rejected + self.invalid
        now = time.monotonic()
        self._samples.append((now, done_now))
        while self._samples and self._samples[0][0] < now - RATE_WINDOW_SECONDS:
            self._samples.popleft()
        first_time, first_done = self._samples[0]
        rate = (done_now - first_done) / (now - first_time) if now > first_time else 0.0
        invalid = self.initial.invalid + self.invalid + ingest.invalid
        return Snapshot(
            done=self.initial.done + done_now + ingest.invalid,
            total=self.initial.total + ingest.added,
            reading=ingest.is_alive(),
            sent=self.initial.sent + self.sent,
            rejected=self.initial.rejected + self.rejected,
            invalid=invalid,
            retrying=len(self.retrying),
            rate=rate,
            limit=limit,
        )


@dataclass
class RunResult:
    stats: DrainStats
    interrupted: bool
    complete: bool
    """The whole input was read into the journal."""
    error: BaseException | None


async def _drain(
    journal: Journal, ingest: Ingest, stop_ingest: threading.Event, options: SendOptions,
    people: list[AsyncPeopleEvents], tracker: Tracker, display: Display, err: IO[str],
) -> RunResult:  # fmt: skip
    loop = asyncio.get_running_loop()
    drainer = Drainer(journal.store, people, concurrency=options.concurrency, on_outcome=tracker.on_outcome)
    interrupts = 0

    def on_signal() -> None:
        nonlocal interrupts
        interrupts += 1
        stop_ingest.set()
        if interrupts == 1:
            err.write("\npeople-events: stopping; sends in flight may finish (Ctrl-C again to stop at once)\n")
            drainer.stop()
            loop.call_later(STOP_GRACE_SECONDS, drainer.abort)
        else:
            drainer.abort()

    def on_ingest_end() -> None:
        if ingest.error is not None:
            drainer.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)

    async def show() -> None:
        while True:
            display.update(tracker.snapshot(ingest, options.rate_limit))
            await asyncio.sleep(0.25)

    async def watch_ingest() -> None:
        await asyncio.to_thread(ingest.join)
        on_ingest_end()

    shower = asyncio.create_task(show())
    watcher = asyncio.create_task(watch_ingest())
    ingest.start()
    failure: BaseException | None = None
    try:
        async with contextlib.AsyncExitStack() as clients:
            for facade in people:
                await clients.enter_async_context(facade)
            await drainer.run(more_coming=ingest.is_alive)
    except (sqlite3.Error, OSError) as error:  # e.g. a full disk: what was recorded stays recorded
        failure = error
    finally:
        stop_ingest.set()
        # A reader blocked on an idle stdin cannot be woken: leave it (its rows were not committed).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(watcher), STOP_GRACE_SECONDS)
        shower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await shower
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return RunResult(
        stats=drainer.stats,
        interrupted=interrupts > 0,
        complete=ingest.state.complete and not ingest.is_alive(),
        error=ingest.error or failure,
    )


def send(options: SendOptions, out: IO[str], err: IO[str]) -> int:
    """Send a file's rows through the journal; returns the exit code."""
    if options.rate_limit < 1 or options.concurrency < 1:
        raise UsageError("--rate-limit and --concurrency must be at least 1")
    fmt = input_format(options)
    base_url, api_key = credentials(options.base_url, options.api_key)
    journal_path, dead_letter_path = _paths(options)
    people = facades(
        base_url, api_key, concurrency=options.concurrency, rate_limit=options.rate_limit, redis_url=options.redis
    )
    base_url = people[0].base_url or base_url  # as the facade normalised it
    with open_input(options.file) as stream, open_journal(journal_path) as journal:
        source = TrackedInput(stream)
        state, header = _bind_input(journal, source, options, fmt, base_url)
        journal.store.expire_leases()  # we hold the journal's lock: any lease left belongs to a dead run
        tracker = Tracker(journal.store.counts())
        stop_ingest = threading.Event()
        ingest = Ingest(journal, read_rows(source, fmt, header), source, state, stop_ingest)
        display = make_display(err, interval=options.progress_interval)
        try:
            result = asyncio.run(_drain(journal, ingest, stop_ingest, options, people, tracker, display, err))
        finally:
            display.close()
        dead = write_dead_letters(journal.store, dead_letter_path)
        counts = journal.store.counts()
    return _summary(options, result, counts, dead, journal_path, dead_letter_path, out, err)


def _summary(
    options: SendOptions, result: RunResult, counts: Counts, dead: int, journal_path: Path, dead_letter_path: Path,
    out: IO[str], err: IO[str],
) -> int:  # fmt: skip
    """The final summary (stdout), then why the exit code is not 0 or 1 (stderr)."""
    stats = result.stats
    out.write(
        f"people-events: {options.file}: {counts.total} rows: {counts.sent} sent, {counts.rejected} rejected, "
        f"{counts.invalid} invalid, {counts.pending} pending\n"
        f"  this run: {stats.sent} sent, {stats.rejected} rejected, {stats.retried} retries\n"
        f"  dead letters: {dead} rows in {dead_letter_path}\n"
        f"  journal: {journal_path}\n"
    )
    if result.error is not None:
        err.write(f"people-events: error: {_describe(result.error)}; run the same command again to resume\n")
        return EXIT_USAGE
    if stats.halted is not None:
        err.write(
            f"people-events: error: the server refused the credentials ({stats.halted}); nothing more was sent. "
            "Check --api-key / INFOBIP_API_KEY, then run the same command again.\n"
        )
        return EXIT_USAGE
    if not result.complete or counts.pending:
        left = f"{counts.pending} rows pending" + ("" if result.complete else ", the rest of the input unread")
        err.write(f"people-events: interrupted with {left}; run the same command again to resume\n")
        return EXIT_INTERRUPTED
    return EXIT_DEAD_LETTERS if counts.rejected or counts.invalid else EXIT_OK


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return f"{type(error).__name__}: {error}"


def send_command(options: SendOptions, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Run ``send`` or ``send --dry-run``; expected failures become one line on stderr and exit 2."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if options.dry_run:
            return dry_run(options, out)
        return send(options, out, err)
    except (UsageError, InputError, JournalError, StoreError) as error:
        err.write(f"people-events: error: {error}\n")
        return EXIT_USAGE
