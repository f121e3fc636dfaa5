# copied from codegen/overlay/cli/drain.py by `make regenerate`; edit there, never here.
"""``people-events drain STORE_URL`` (a drainer as a process or container of its own) and ``people-events migrate
STORE_URL`` (create the outbox's schema, explicitly, once per database).

drain exit codes: 0 stopped by SIGTERM or Ctrl-C (sends in flight finished and recorded), or, with
``--until-empty``, nothing left pending; 2 usage, store or credential error (one line on stderr). Without
``--until-empty`` a failure (the database restarting, a 401) is logged and retried, as a worker should.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import dataclass
from typing import IO

from .. import AsyncPeopleEvents
from ..delivery import RoundPolicy, StoreError
from ..outbox import DrainLoop, DrainOptions, DrainTotals, migrate, open_store, redact
from .common import EXIT_OK, EXIT_USAGE, UsageError, credentials, facades

STOP_GRACE_SECONDS = 10.0
"""After SIGTERM or Ctrl-C, sends in flight get this long to finish; then they are cancelled (left pending)."""


@dataclass(frozen=True, slots=True)
class DrainCommandOptions:
    store: str
    base_url: str | None = None
    api_key: str | None = None
    rate_limit: int = 250
    concurrency: int = 32
    redis: str | None = None
    lease: float = 60.0
    retention: float | None = 7 * 24 * 3600.0
    until_empty: bool = False
    progress_interval: float = 60.0


def drain(options: DrainCommandOptions, err: IO[str]) -> int:
    base_url, api_key = credentials(options.base_url, options.api_key)
    people = facades(
        base_url, api_key, concurrency=options.concurrency, rate_limit=options.rate_limit, redis_url=options.redis
    )
    try:
        store = open_store(options.store)
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        counts = store.counts()  # the schema check, before any claim (PostgreSQL: a missing table names migrate)
        err.write(f"people-events drain: {redact(options.store)}: {counts.pending} pending\n")
        drain_options = DrainOptions(
            concurrency=options.concurrency,
            lease_seconds=options.lease,
            rounds=RoundPolicy(),
            retention=options.retention,
        )
        runner = DrainLoop(store, people, drain_options, until_empty=options.until_empty)
        try:
            totals = asyncio.run(_run(runner, people, options, err))
        except (StoreError, OSError, ValueError):
            raise
        except Exception as error:  # --until-empty: a store failure ends the run (the events stay pending)
            raise StoreError(f"{type(error).__name__}: {_first_line(error)}") from None
        counts = store.counts()
    finally:
        store.close()
    err.write(
        f"people-events drain: stopped: this run {totals.sent} sent, {totals.rejected} rejected, {totals.invalid}"
        f" invalid, {totals.retried} retries; now {counts.pending} pending, {counts.rejected} rejected\n"
    )
    if totals.halted is not None:
        err.write(
            f"people-events drain: error: the server refused the credentials ({totals.halted}); nothing more was "
            "sent. Check --api-key / INFOBIP_API_KEY.\n"
        )
        return EXIT_USAGE
    return EXIT_OK


async def _run(
    runner: DrainLoop, people: list[AsyncPeopleEvents], options: DrainCommandOptions, err: IO[str]
) -> DrainTotals:
    loop = asyncio.get_running_loop()
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            err.write("people-events drain: stopping; sends in flight may finish (again to stop at once)\n")
            runner.stop()
            loop.call_later(STOP_GRACE_SECONDS, runner.abort)
        else:
            runner.abort()

    async def report() -> None:
        while True:
            await asyncio.sleep(options.progress_interval)
            totals = runner.totals
            err.write(
                f"people-events drain: {totals.sent} sent, {totals.rejected} rejected, {totals.retried} retries\n"
            )

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    reporter = asyncio.create_task(report())
    try:
        async with contextlib.AsyncExitStack() as clients:
            for facade in people:
                await clients.enter_async_context(facade)
            return await runner.run()
    finally:
        reporter.cancel()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def drain_command(options: DrainCommandOptions, err: IO[str] | None = None) -> int:
    """Run ``drain``; expected failures become one line on stderr and exit 2."""
    err = err or sys.stderr
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("people-events drain: %(message)s"))
    outbox_logger = logging.getLogger("people_events_client.outbox")
    outbox_logger.addHandler(handler)
    try:
        return drain(options, err)
    except (UsageError, StoreError, OSError) as error:
        err.write(f"people-events: error: {_first_line(error)}\n")
        return EXIT_USAGE
    finally:
        outbox_logger.removeHandler(handler)


def migrate_command(store_url: str, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Create the outbox's schema at STORE_URL if it is missing; one line either way."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        version = migrate(store_url)
    except (ValueError, StoreError) as error:
        err.write(f"people-events: error: {error}\n")
        return EXIT_USAGE
    out.write(f"people-events migrate: {redact(store_url)}: outbox schema version {version} ready\n")
    return EXIT_OK


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
