# copied from codegen/overlay/cli/journal.py by `make regenerate`; edit there, never here.
"""The bulk CLI's journal: the delivery engine's SQLite store, tied to one input file.

Besides the store's queue and outcomes, the journal keeps (in the same file, in the same transactions):

- how far the input was read: bytes, lines, rows, and the SHA-256 of those bytes; on a re-run the input is
  hashed again up to that point, so a changed file is detected before anything is sent;
- the number of identical rows seen so far (for derived eventIds, see ``event_ids``);
- the format, the CSV header and the base URL, so a re-run cannot mix inputs or accounts.

Credentials are never written. One process uses a journal at a time (an exclusive ``flock`` on the file).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..delivery import InvalidItem, NewEvent, SQLiteStore, StoreError
from .event_ids import derive_event_id

try:
    import fcntl
except ImportError:  # not POSIX: no lock (documented)
    fcntl = None  # type: ignore[assignment]

JOURNAL_VERSION = "1"
_TABLES = (
    # How many rows with each canonical form (by its SHA-256, first 16 bytes) were journaled: occurrence numbers.
    "CREATE TABLE IF NOT EXISTS occurrences (digest BLOB PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
)


class JournalError(Exception):
    """The journal cannot be used for this run; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class InputState:
    """How far the journal's input was read, and what it was."""

    format: str
    header: list[str] | None
    base_url: str
    bytes: int = 0
    lines: int = 0
    rows: int = 0
    sha256: str = ""
    complete: bool = False


@dataclass(frozen=True, slots=True)
class PendingRow:
    """A valid row on its way into the journal; ``canonical`` is set when its eventId must be derived."""

    fields: dict[str, Any]
    canonical: str | None
    line: int


class Journal:
    """An open journal: ``store`` is the delivery engine's store; the rest binds it to its input."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_fd = self._lock(path)
        try:
            self.store = SQLiteStore(path, durable=False)
            with self.store.transaction() as db:
                for statement in _TABLES:
                    db.execute(statement)
                version = self._get(db, "journal.version")
                if version is None:
                    self._set(db, {"journal.version": JOURNAL_VERSION})
                elif version != JOURNAL_VERSION:
                    raise JournalError(f"journal {path} has version {version}; this command reads {JOURNAL_VERSION}")
        except (StoreError, JournalError):
            os.close(self._lock_fd)
            raise

    @staticmethod
    def _lock(path: Path) -> int:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            raise JournalError(f"cannot open the journal {path}: {err.strerror}") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise JournalError(f"the journal {path} is in use by another people-events process") from None
        return fd

    @staticmethod
    def _get(db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @staticmethod
    def _set(db: sqlite3.Connection, values: dict[str, str]) -> None:
        db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", values.items())

    def input_state(self) -> InputState | None:
        """What the journal knows of its input, or None for a new journal."""
        with self.store.transaction() as db:
            raw = self._get(db, "input")
        if raw is None:
            return None
        data = json.loads(raw)
        return InputState(**data)

    def start(self, state: InputState) -> None:
        """Bind a new journal to its input (format, header, base URL)."""
        with self.store.transaction() as db:
            self._set(db, {"input": json.dumps(dataclasses.asdict(state))})

    def add(self, rows: Sequence[PendingRow | InvalidItem], state: InputState) -> list[NewEvent]:
        """Enqueue valid rows (deriving eventIds) and record invalid ones, in input order, and advance the input
        state, in one transaction: after a crash the journal holds all of it or none."""
        enqueued: list[NewEvent] = []
        with self.store.transaction() as db:
            for invalid, group in itertools.groupby(rows, key=lambda r: isinstance(r, InvalidItem)):
                if invalid:
                    self.store.record_invalid([r for r in group if isinstance(r, InvalidItem)], connection=db)
                else:
                    events = [self._event(db, r) for r in group if isinstance(r, PendingRow)]
                    self.store.enqueue(events, connection=db)
                    enqueued += events
            self._set(db, {"input": json.dumps(dataclasses.asdict(state))})
        return enqueued

    @staticmethod
    def _event(db: sqlite3.Connection, row: PendingRow) -> NewEvent:
        fields = row.fields
        event_id = fields.get("eventId")
        if row.canonical is not None:
            digest = hashlib.sha256(row.canonical.encode()).digest()[:16]
            (occurrence,) = db.execute(
                "INSERT INTO occurrences (digest, n) VALUES (?, 1) ON CONFLICT (digest) DO UPDATE SET n = n + 1"
                " RETURNING n",
                (digest,),
            ).fetchone()
            event_id = derive_event_id(row.canonical, occurrence)
        assert isinstance(event_id, str)
        return NewEvent(
            event_id=event_id,
            person_id=fields["personId"],
            identifier_type=fields["identifierType"],
            definition_id=fields["definitionId"],
            properties=fields.get("properties"),
            create_person=bool(fields.get("createPerson", False)),
            ref=str(row.line),
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.store.close()
        os.close(self._lock_fd)


@contextlib.contextmanager
def open_journal(path: Path) -> Iterator[Journal]:
    journal = Journal(path)
    try:
        yield journal
    finally:
        journal.close()
