"""``Outbox`` (sync applications: the drainer is a background thread) and ``AsyncOutbox`` (asyncio: a task)."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from .. import AsyncPeopleEvents, FleetLimiter, validate_event
from ..auth import Auth
from ..delivery import (
    Counts,
    FinishedRecord,
    NewEvent,
    OutboxStore,
    PostgresStore,
    RoundPolicy,
    StoreError,
    drain_facades,
)
from ..models import IdentifierType
from .runner import DrainLoop, DrainOptions, DrainTotals
from .stores import StoreURL, is_postgres, open_store

if TYPE_CHECKING:
    import psycopg

DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600.0
CLOSE_GRACE_SECONDS = 10.0
FLUSH_POLL_SECONDS = 0.05

_LEFT_IN_PARENT: list[OutboxStore] = []
"""Stores opened before a fork, as seen by the child: kept (never closed or collected) so that the child never
touches connections or sockets its parent still uses."""


class OutboxClosed(RuntimeError):
    """``enqueue`` (or another call) after ``close()``."""


class _Base:
    """What both outboxes share: options, validation, the store (one per process), the final-event calls."""

    def __init__(
        self,
        store: StoreURL,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        auth: Auth | None = None,
        rate_limit: int | None = 250,
        limiter: FleetLimiter | None = None,
        max_retries: int | None = None,
        concurrency: int = 32,
        max_pending: int | None = None,
        retention: float | None = DEFAULT_RETENTION_SECONDS,
        fsync: bool = True,
        lease_seconds: float = 60.0,
        rounds: RoundPolicy | None = None,
        http_client_args: Mapping[str, Any] | None = None,
    ) -> None:
        """Open the outbox at ``store`` (see ``open_store``). ``base_url`` and a credential (``api_key`` or
        ``auth``) are needed only to drain (``start``); an application whose drainers run elsewhere omits them.

        ``max_pending``: ``enqueue`` raises ``QueueFull`` rather than hold more pending events. ``retention``:
        seconds a sent event is kept before a drainer prunes it (None: forever); rejected events are kept until
        redriven or purged. ``fsync`` (SQLite): fsync every enqueue (survives a power cut); False commits in WAL
        mode only (survives a killed process). The rest configure the drainer and its facades as in
        ``AsyncPeopleEvents`` and ``Drainer``."""
        if max_pending is not None and (isinstance(max_pending, bool) or max_pending < 1):
            raise ValueError("max_pending must be None or at least 1")
        self._options = DrainOptions(
            concurrency=concurrency, lease_seconds=lease_seconds, rounds=rounds or RoundPolicy(), retention=retention
        )
        self._url = store
        self._fsync = fsync
        self._max_pending = max_pending
        self._people: list[AsyncPeopleEvents] = []
        if base_url is not None:
            self._people = drain_facades(
                base_url,
                api_key=api_key,
                auth=auth,
                concurrency=concurrency,
                rate_limit=rate_limit,
                limiter=limiter,
                max_retries=max_retries,
                http_client_args=http_client_args,
            )
        elif api_key is not None or auth is not None:
            raise ValueError("a credential without base_url: give base_url too")
        self._closed = False
        self._store_of = (os.getpid(), open_store(store, fsync=fsync))
        self._init_drainer()

    def _init_drainer(self) -> None:
        """The drainer's state, which differs between the thread (``Outbox``) and the task (``AsyncOutbox``)."""

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self._url)

    def _store(self) -> OutboxStore:
        if self._closed:
            raise OutboxClosed("the outbox is closed")
        pid, store = self._store_of
        if pid != os.getpid():  # a forked child: a store of its own
            _LEFT_IN_PARENT.append(store)
            self._store_of = (os.getpid(), open_store(self._url, fsync=self._fsync))
            self._forked()
        return self._store_of[1]

    def _forked(self) -> None:
        """The drainer (a thread or a task) stayed in the parent."""

    def _event(
        self,
        person_id: str,
        definition_id: str,
        identifier_type: IdentifierType | str,
        properties: Mapping[str, Any] | None,
        event_id: str | None,
        create_person: bool,
    ) -> NewEvent:
        """The event to enqueue, checked exactly as ``send`` would check it (ValueError, nothing written)."""
        event_id = str(uuid.uuid4()) if event_id is None else event_id
        validate_event(
            person_id,
            definition_id,
            identifier_type=identifier_type,
            properties=properties,
            event_id=event_id,
            create_person=create_person,
        )
        return NewEvent(
            event_id=event_id,
            person_id=person_id,
            identifier_type=str(IdentifierType(identifier_type).value),
            definition_id=definition_id,
            properties=None if properties is None else dict(properties),
            create_person=create_person,
        )

    def _check_connection(self, connection: object) -> None:
        if connection is not None and not self.is_postgres:
            raise ValueError("connection= is for a PostgreSQL outbox (an SQLite outbox writes its own file)")

    def _loop(self, until_empty: bool = False) -> DrainLoop:
        if not self._people:
            raise ValueError("draining needs base_url and api_key (or auth)")
        return DrainLoop(self._store(), self._people, self._options, until_empty=until_empty)

    def migrate(self) -> int:
        """Create the outbox's table if it is missing (PostgreSQL; SQLite does it on open). Idempotent; returns the
        schema version. Run it at deploy time (or ``people-events migrate STORE_URL``), never implicitly."""
        return self._store().migrate()

    def stats(self) -> Counts:
        """Events by state: pending (of which in flight and retrying), sent (within the retention), rejected,
        invalid, and the age in seconds of the oldest pending event."""
        return self._store().counts()

    def rejected(self) -> Iterator[FinishedRecord]:
        """Rejected (and invalid) events with their errors, in enqueue order, streamed."""
        return self._store().finished(("rejected", "invalid"))

    def redrive(self, event_ids: Iterable[str]) -> int:
        """Queue these rejected events again (fix the cause first: a missing person, a definition); they keep their
        eventIds. Returns how many."""
        count = self._store().redrive(list(event_ids))
        self._wake()
        return count

    def purge(self, event_ids: Iterable[str]) -> int:
        """Delete these rejected events for good; returns how many."""
        return self._store().purge(list(event_ids))

    def prune(self) -> int:
        """Delete sent events older than the retention now (a running drainer does it every minute)."""
        retention = self._options.retention
        return 0 if retention is None else self._store().prune(retention)

    def _wake(self) -> None:
        """Tell this process's drainer, if any, that an event is due."""


class Outbox(_Base):
    """A durable outbox for a synchronous application: ``enqueue`` is one local write and never touches the
    network; ``start()`` drains it in a background thread at the account's pace.

    Safe across threads and ``os.fork()`` (a forked child opens its own store; start its drainer there if it
    should drain). Several processes may use one SQLite file or one PostgreSQL table: their drainers share the
    queue through leases; pass ``limiter=redis_limiter(...)`` so that they also share the account's rate.
    """

    def _init_drainer(self) -> None:
        self._thread: threading.Thread | None = None
        self._runner: DrainLoop | None = None
        self._runner_loop: asyncio.AbstractEventLoop | None = None
        self._started = threading.Event()
        self._state_lock = threading.Lock()
        self.totals: DrainTotals | None = None
        """What this process's drainer did, once started."""

    def enqueue(
        self,
        person_id: str,
        definition_id: str,
        *,
        identifier_type: IdentifierType | str,
        properties: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        create_person: bool = False,
        connection: psycopg.Connection[Any] | None = None,
    ) -> str:
        """Durably enqueue one event and return its eventId (yours, or a new UUID). Checked as ``send`` checks
        (ValueError before anything is written). With ``connection`` (PostgreSQL), the row is written inside that
        connection's open transaction and exists only if it commits. Raises ``QueueFull`` (max_pending reached, or
        a full disk) writing nothing; with ``connection``, roll that transaction back then (a full disk has aborted
        it). Raises ``StoreUnavailable`` when the database is unreachable or was lost during the write: the event may
        or may not be enqueued, so enqueue it again with ``event_id=error.event_id``."""
        self._check_connection(connection)
        event = self._event(person_id, definition_id, identifier_type, properties, event_id, create_person)
        store = self._store()
        with _naming(event):
            if connection is not None:
                assert isinstance(store, PostgresStore)
                store.enqueue([event], connection=connection, max_pending=self._max_pending)
            else:
                store.enqueue([event], max_pending=self._max_pending)
        self._wake()
        return event.event_id

    def start(self) -> None:
        """Drain in a background thread until ``close()``. Idempotent."""
        with self._state_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            runner = self._loop()
            self._runner, self.totals = runner, runner.totals
            self._started.clear()
            self._thread = threading.Thread(target=self._run, args=(runner,), name="people-events-outbox", daemon=True)
            self._thread.start()
        self._started.wait(10)
        _at_exit(weakref.ref(self))

    def _run(self, runner: DrainLoop) -> None:
        async def main() -> None:
            self._runner_loop = asyncio.get_running_loop()
            self._started.set()
            await runner.run()

        try:
            asyncio.run(main())
        finally:
            self._runner_loop = None
            self._started.set()

    def _call_runner(self, method: str) -> None:
        loop, runner = self._runner_loop, self._runner
        if loop is not None and runner is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed
                loop.call_soon_threadsafe(getattr(runner, method))

    def _wake(self) -> None:
        self._call_runner("wake")

    def _forked(self) -> None:
        self._thread = self._runner = self._runner_loop = None

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is pending (sent or rejected: final), at most ``timeout`` seconds; True if so."""
        deadline = time.monotonic() + timeout
        while self._store().next_due() is not None:
            if time.monotonic() >= deadline:
                return False
            time.sleep(FLUSH_POLL_SECONDS)
        return True

    def close(self, timeout: float = CLOSE_GRACE_SECONDS) -> None:
        """Stop the drainer: claim nothing more; sends in flight get ``timeout`` seconds to finish and be recorded,
        then are cancelled (their events stay pending, resent later with the same eventId). Pending events stay
        in the store for the next drainer. Idempotent."""
        with self._state_lock:
            if self._closed:
                return
            thread = self._thread
            self._call_runner("stop")
            if thread is not None and thread.is_alive():
                thread.join(timeout)
                if thread.is_alive():
                    self._call_runner("abort")
                    thread.join(CLOSE_GRACE_SECONDS)
            self._closed = True
            pid, store = self._store_of
            if pid == os.getpid():
                store.close()
            _close_facades(self._people)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class AsyncOutbox(_Base):
    """``Outbox`` for asyncio applications: ``await enqueue(...)`` (the store write runs in a worker thread, so the
    event loop never waits for a disk or a database), and ``start()`` drains in a task of the running loop."""

    def _init_drainer(self) -> None:
        self._task: asyncio.Task[DrainTotals] | None = None
        self._runner: DrainLoop | None = None
        self.totals: DrainTotals | None = None

    async def enqueue(
        self,
        person_id: str,
        definition_id: str,
        *,
        identifier_type: IdentifierType | str,
        properties: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        create_person: bool = False,
        connection: psycopg.AsyncConnection[Any] | None = None,
    ) -> str:
        """``Outbox.enqueue``; ``connection`` is a ``psycopg.AsyncConnection`` in an open transaction."""
        self._check_connection(connection)
        event = self._event(person_id, definition_id, identifier_type, properties, event_id, create_person)
        store = self._store()
        with _naming(event):
            if connection is not None:
                assert isinstance(store, PostgresStore)
                await store.aenqueue([event], connection=connection, max_pending=self._max_pending)
            else:
                await asyncio.to_thread(store.enqueue, [event], max_pending=self._max_pending)
        self._wake()
        return event.event_id

    def start(self) -> None:
        """Drain in a task of the running event loop until ``close()``. Idempotent."""
        if self._task is not None and not self._task.done():
            return
        self._runner = self._loop()
        self.totals = self._runner.totals
        self._task = asyncio.create_task(self._runner.run(), name="people-events-outbox")

    def _wake(self) -> None:
        if self._runner is not None:
            self._runner.wake()

    def _forked(self) -> None:
        self._task = self._runner = None

    async def flush(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is pending, at most ``timeout`` seconds; True if so."""
        deadline = time.monotonic() + timeout
        store = self._store()
        while await asyncio.to_thread(store.next_due) is not None:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(FLUSH_POLL_SECONDS)
        return True

    async def aclose(self, timeout: float = CLOSE_GRACE_SECONDS) -> None:
        """``Outbox.close`` for asyncio."""
        if self._closed:
            return
        task, runner = self._task, self._runner
        if task is not None and runner is not None and not task.done():
            runner.stop()
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                runner.abort()
                await asyncio.wait({task}, timeout=CLOSE_GRACE_SECONDS)
        if task is not None and task.done() and not task.cancelled():
            task.exception()  # retrieved: a failure was logged by the loop already
        self._closed = True
        for people in self._people:
            await people.aclose()
        pid, store = self._store_of
        if pid == os.getpid():
            await asyncio.to_thread(store.close)

    close = aclose

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()


@contextlib.contextmanager
def _naming(event: NewEvent) -> Iterator[None]:
    """A ``StoreError`` from enqueueing ``event`` carries its eventId, so the caller can enqueue it again with it."""
    try:
        yield
    except StoreError as err:
        err.event_id = event.event_id
        raise


def _at_exit(outbox: weakref.ref[Outbox]) -> None:
    """Close the outbox (if it still exists) when the interpreter exits, before ``concurrent.futures`` refuses new
    work (the drainer's store calls need it): threading's exit hooks run before plain ``atexit`` ones, newest first.
    Private, but the one hook that runs early enough; where it is missing, ``atexit`` (the drainer may then stop
    less cleanly: its leases expire and its events are resent with their eventIds)."""

    def close() -> None:
        found = outbox()
        if found is not None:
            found.close()

    register = getattr(threading, "_register_atexit", None)
    if register is None:
        atexit.register(close)
    else:
        with contextlib.suppress(RuntimeError):  # already shutting down
            register(close)


def _close_facades(people: list[AsyncPeopleEvents]) -> None:
    """Close async facades from synchronous code, on an event loop of their own in a short-lived thread (the
    caller may itself be running a loop): their pools of loops that have ended are dropped, budgets freed."""

    async def close_all() -> None:
        for facade in people:
            await facade.aclose()

    if people:
        closer = threading.Thread(target=asyncio.run, args=(close_all(),), name="people-events-outbox-close")
        closer.start()
        closer.join()
