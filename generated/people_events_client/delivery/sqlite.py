# copied from codegen/overlay/delivery/sqlite.py by `make regenerate`; edit there, never here.
"""The SQLite store (stdlib ``sqlite3``, WAL): the bulk CLI's journal and the embedded outbox.

One file holds the queue and the outcomes. WAL lets readers run beside the one writer; every write is a
short ``BEGIN IMMEDIATE`` transaction, so several processes of one host can enqueue and drain the same file
(``busy_timeout`` makes them wait their turn). ``durable=True`` (the default) fsyncs every commit
(``synchronous=FULL``); ``durable=False`` keeps commits safe against a killed process, not against a power cut.

The schema carries a version number (``PRAGMA user_version``) and an application id, so a newer schema, or a
file that is not a People Events store, is refused with a clear error instead of being misread. An older schema is
upgraded in place when the file is opened (version 2 added the index that retention pruning reads).

The outbox's extras: ``enqueue`` can refuse beyond a maximum of pending events, checked inside its own write
transaction (exact: SQLite has one writer at a time); a full disk makes ``enqueue`` raise ``QueueFull`` with
nothing written; ``redrive``, ``purge`` and ``prune`` manage final events.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from .errors import QueueFull, StoreError, StoreUnavailable
from .events import Claimed, Counts, FinishedRecord, Invalid, InvalidItem, NewEvent, Outcome, Rejected, Retry, Sent
from .records import claimed_events, finished_record, insert_rows, problem_text, room_error, to_json

SCHEMA_VERSION = 2
APPLICATION_ID = 0x50455631
"""``PRAGMA application_id`` of every People Events store ("PEV1")."""

_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    """CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected', 'invalid')),
        event_id TEXT,
        person_id TEXT,
        identifier_type TEXT,
        definition_id TEXT,
        properties TEXT,
        create_person INTEGER NOT NULL DEFAULT 0,
        ref TEXT,
        original TEXT,
        enqueued_at REAL NOT NULL,
        rounds INTEGER NOT NULL DEFAULT 0,
        not_before REAL NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until REAL,
        last_error TEXT,
        finished_at REAL,
        occurred_time TEXT,
        status INTEGER,
        message_id TEXT,
        text TEXT,
        validation_errors TEXT,
        CHECK (state = 'invalid' OR (event_id IS NOT NULL AND person_id IS NOT NULL
                                     AND identifier_type IS NOT NULL AND definition_id IS NOT NULL))
    )""",
    "CREATE INDEX events_pending ON events (seq) WHERE state = 'pending'",
    "CREATE INDEX events_dead ON events (seq) WHERE state IN ('rejected', 'invalid')",
    "CREATE INDEX events_sent ON events (finished_at) WHERE state = 'sent'",
)
_UPGRADES = {
    1: ("CREATE INDEX events_sent ON events (finished_at) WHERE state = 'sent'",),
}
"""Statements that bring a store of version N to N + 1."""

_CLAIM = (
    "UPDATE events SET lease_owner = ?, lease_until = ? WHERE seq IN ("
    " SELECT seq FROM events WHERE state = 'pending' AND not_before <= ?"
    " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY seq LIMIT ?)"
    " RETURNING seq, event_id, person_id, identifier_type, definition_id, properties, create_person, ref, rounds"
)
_FINISHED = (
    "SELECT seq, state, event_id, person_id, identifier_type, definition_id, properties, create_person, ref,"
    " status, message_id, text, validation_errors, original"
    " FROM events WHERE (state = ? OR state = ? OR state = ?) AND seq > ? ORDER BY seq LIMIT ?"
)
_SENT = (
    "UPDATE events SET state = 'sent', occurred_time = ?, lease_owner = NULL, lease_until = NULL, last_error = NULL,"
    " finished_at = ? WHERE seq = ? AND state = 'pending'"
)
_REJECTED = (
    "UPDATE events SET state = 'rejected', status = ?, message_id = ?, text = ?, validation_errors = ?,"
    " lease_owner = NULL, lease_until = NULL, last_error = NULL, finished_at = ? WHERE seq = ? AND state = 'pending'"
)
_INVALID = (
    "UPDATE events SET state = 'invalid', text = ?, validation_errors = ?,"
    " lease_owner = NULL, lease_until = NULL, last_error = NULL, finished_at = ? WHERE seq = ? AND state = 'pending'"
)
_RETRY = (
    "UPDATE events SET rounds = rounds + 1, not_before = ?, last_error = ?, lease_owner = NULL, lease_until = NULL"
    " WHERE seq = ? AND state = 'pending' AND lease_owner = ?"
)
_REDRIVE = (
    "UPDATE events SET state = 'pending', rounds = 0, not_before = 0, lease_owner = NULL, lease_until = NULL,"
    " last_error = NULL, finished_at = NULL, status = NULL, message_id = NULL, text = NULL, validation_errors = NULL"
    " WHERE event_id = ? AND state IN ('rejected', 'invalid') AND person_id IS NOT NULL"
)
_PURGE = "DELETE FROM events WHERE event_id = ? AND state IN ('rejected', 'invalid')"
_PRUNE = (
    "DELETE FROM events WHERE seq IN"
    " (SELECT seq FROM events WHERE state = 'sent' AND finished_at < ? ORDER BY finished_at LIMIT ?)"
)
_PAGE = 500
_PRUNE_BATCH = 2000
"""Sent events deleted per transaction, so pruning a large backlog never holds the write lock for long."""


class SQLiteStore:
    """A ``Store`` in one SQLite file. Thread-safe: one connection, used under a lock."""

    def __init__(
        self,
        path: str | Path,
        *,
        durable: bool = True,
        busy_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Open (and on first use create) the store at ``path``. ``clock`` is a test seam for lease expiry."""
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as err:
            raise StoreError(f"cannot open {self.path}: {err}") from None
        try:
            self._setup(durable)
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise StoreError(f"{self.path} is not a usable People Events store: {err}") from None
        except StoreError:
            self._db.close()
            raise

    def _setup(self, durable: bool) -> None:
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise StoreError(f"{self.path}: SQLite could not switch to WAL mode (got {mode!r})")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        with self.transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            application_id = db.execute("PRAGMA application_id").fetchone()[0]
            if version == 0 and application_id == 0:
                if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    raise StoreError(f"{self.path} is an SQLite database, but not a People Events store")
                for statement in _SCHEMA:
                    db.execute(statement)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            elif application_id != APPLICATION_ID:
                raise StoreError(f"{self.path} is an SQLite database, but not a People Events store")
            elif version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has store schema version {version}; this client reads version {SCHEMA_VERSION}"
                    " (upgrade infobip-people-events-client)"
                )
            else:
                for old in range(version, SCHEMA_VERSION):
                    for statement in _UPGRADES[old]:
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): commit on success, roll back on any exception. Front doors
        use it to add their own writes atomically with ``enqueue(..., connection=db)``."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back already (e.g. a full disk)
                    self._db.execute("ROLLBACK")
                raise

    def enqueue(
        self,
        events: Iterable[NewEvent],
        *,
        connection: sqlite3.Connection | None = None,
        max_pending: int | None = None,
    ) -> None:
        """Add pending events in one transaction (``connection``'s, when given). With ``max_pending``, raise
        ``QueueFull`` instead when the queue would then hold more pending events; a full disk raises it too. Either
        way nothing is written."""
        rows = insert_rows(events)
        sql = (
            "INSERT INTO events (event_id, person_id, identifier_type, definition_id, properties, create_person,"
            " ref, enqueued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        try:
            with self._using(connection) as db:
                if max_pending is not None:
                    _check_room(db, len(rows), max_pending)
                now = self._clock()
                db.executemany(sql, [(*row, now) for row in rows])
        except sqlite3.OperationalError as err:
            if getattr(err, "sqlite_errorcode", None) != sqlite3.SQLITE_FULL:
                # e.g. "database is locked" past busy_timeout (nothing written), or an I/O error (maybe at the commit)
                raise StoreUnavailable(
                    f"the SQLite outbox {self.path} could not be written ({err}); the event may or may not be "
                    "enqueued: enqueue it again with the same event_id"
                ) from err
            raise QueueFull(
                f"the disk holding {self.path} is full: nothing was enqueued (events already enqueued are intact)",
                reason="disk",
            ) from None

    def record_invalid(self, items: Iterable[InvalidItem], *, connection: sqlite3.Connection | None = None) -> None:
        sql = (
            "INSERT INTO events (state, event_id, ref, original, validation_errors, text, enqueued_at, finished_at)"
            " VALUES ('invalid', ?, ?, ?, ?, ?, ?, ?)"
        )
        with self._using(connection) as db:
            now = self._clock()
            db.executemany(
                sql,
                [
                    (i.event_id, i.ref, i.original, to_json(dict(i.problems)), problem_text(i.problems), now, now)
                    for i in items
                ],
            )

    @contextlib.contextmanager
    def _using(self, connection: sqlite3.Connection | None) -> Iterator[sqlite3.Connection]:
        if connection is not None:
            yield connection
        else:
            with self.transaction() as db:
                yield db

    def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Claimed]:
        if limit <= 0:
            return []
        with self.transaction() as db:
            now = self._clock()
            rows = db.execute(
                _CLAIM,
                (owner, now + lease_seconds, now, now, limit),
            ).fetchall()
        return claimed_events(rows)

    def renew(self, owner: str, lease_seconds: float) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE events SET lease_until = ? WHERE state = 'pending' AND lease_owner = ?",
                (self._clock() + lease_seconds, owner),
            )
            return cursor.rowcount

    def release(self, owner: str) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE events SET lease_owner = NULL, lease_until = NULL WHERE state = 'pending' AND lease_owner = ?",
                (owner,),
            )
            return cursor.rowcount

    def expire_leases(self) -> int:
        """End every lease now. Only for a store that one drainer uses at a time, at its start (the bulk CLI holds
        its journal's lock): the leases left in it belong to a process that is gone."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE events SET lease_owner = NULL, lease_until = NULL"
                " WHERE state = 'pending' AND lease_owner IS NOT NULL"
            )
            return cursor.rowcount

    def record(self, owner: str, outcomes: Sequence[tuple[int, Outcome]]) -> None:
        if not outcomes:
            return
        with self.transaction() as db:
            now = self._clock()
            for seq, outcome in outcomes:
                self._record_one(db, owner, seq, outcome, now)

    @staticmethod
    def _record_one(db: sqlite3.Connection, owner: str, seq: int, outcome: Outcome, now: float) -> None:
        if isinstance(outcome, Sent):
            db.execute(_SENT, (outcome.occurred_time, now, seq))
        elif isinstance(outcome, Rejected):
            errors = to_json(dict(outcome.validation_errors))
            db.execute(_REJECTED, (outcome.status, outcome.message_id, outcome.text, errors, now, seq))
        elif isinstance(outcome, Invalid):
            db.execute(_INVALID, (problem_text(outcome.problems), to_json(dict(outcome.problems)), now, seq))
        else:
            assert isinstance(outcome, Retry)
            db.execute(_RETRY, (now + outcome.delay, outcome.error, seq, owner))

    def next_due(self) -> float | None:
        with self._lock:
            due = self._db.execute(
                "SELECT min(max(not_before, coalesce(lease_until, 0))) FROM events WHERE state = 'pending'"
            ).fetchone()[0]
        return None if due is None else max(0.0, due - self._clock())

    def counts(self) -> Counts:
        """Each count reads its own partial index: pending events, sent ones, and rejected or invalid ones."""
        with self._lock:
            now = self._clock()
            pending, in_flight, retrying, oldest = self._db.execute(
                "SELECT count(*), coalesce(sum(lease_until > ?), 0), coalesce(sum(rounds > 0), 0), min(enqueued_at)"
                " FROM events WHERE state = 'pending'",
                (now,),
            ).fetchone()
            by_state = dict(
                self._db.execute(
                    "SELECT state, count(*) FROM events WHERE state IN ('rejected', 'invalid') GROUP BY state"
                ).fetchall()
            )
            by_state["sent"] = self._db.execute("SELECT count(*) FROM events WHERE state = 'sent'").fetchone()[0]
        return Counts(
            pending=pending,
            in_flight=in_flight,
            retrying=retrying,
            sent=by_state.get("sent", 0),
            rejected=by_state.get("rejected", 0),
            invalid=by_state.get("invalid", 0),
            oldest_pending_age=None if oldest is None else max(0.0, now - oldest),
        )

    def finished(self, states: Sequence[str] = ("rejected", "invalid")) -> Iterator[FinishedRecord]:
        wanted = [state for state in states if state in ("sent", "rejected", "invalid")]
        if not wanted:
            return
        slots = (wanted * 3)[:3]  # the query has three state slots; repeating a state changes nothing
        after = 0
        while True:
            with self._lock:  # one page per lock hold, so writers are not held up by a slow consumer
                rows = self._db.execute(_FINISHED, (*slots, after, _PAGE)).fetchall()
            for row in rows:
                yield finished_record(row)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def migrate(self) -> int:
        """The schema is created (or upgraded) when the file is opened; returns its version."""
        return SCHEMA_VERSION

    def redrive(self, event_ids: Iterable[str]) -> int:
        """Queue rejected (or invalid) events with these eventIds again, as new: no rounds used, no error kept. They
        keep their eventIds, so a resend is recorded once. Returns how many."""
        with self.transaction() as db:
            return sum(db.execute(_REDRIVE, (event_id,)).rowcount for event_id in event_ids)

    def purge(self, event_ids: Iterable[str]) -> int:
        """Delete rejected (or invalid) events with these eventIds; returns how many."""
        with self.transaction() as db:
            return sum(db.execute(_PURGE, (event_id,)).rowcount for event_id in event_ids)

    def prune(self, older_than: float) -> int:
        """Delete events sent more than ``older_than`` seconds ago, in short transactions; returns how many."""
        deleted = 0
        while True:
            with self.transaction() as db:
                count = db.execute(_PRUNE, (self._clock() - older_than, _PRUNE_BATCH)).rowcount
            deleted += count
            if count < _PRUNE_BATCH:
                return deleted

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _check_room(db: sqlite3.Connection, adding: int, max_pending: int) -> None:
    """Raise ``QueueFull`` when ``adding`` more events would put more than ``max_pending`` in the queue. Counts at
    most ``max_pending`` rows of the pending index, so a full queue costs no more than a bounded one."""
    pending = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM events WHERE state = 'pending' LIMIT ?)", (max_pending + 1,)
    ).fetchone()[0]
    if pending + adding > max_pending:
        raise room_error(pending, max_pending)
