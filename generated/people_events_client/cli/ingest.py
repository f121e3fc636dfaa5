# copied from codegen/overlay/cli/ingest.py by `make regenerate`; edit there, never here.
"""Reading rows into the journal: validate each row, then enqueue it (or record it as invalid) in batches.

Runs in a thread of its own beside the drainer, so sending starts with the first batch. Every batch is one
journal transaction together with how far the input was read, so a killed run resumes exactly after the last
committed row.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator

from ..delivery import InvalidItem, event_problems
from .event_ids import canonical_row
from .journal import InputState, Journal, PendingRow
from .rows import Row, TrackedInput

BATCH_ROWS = 500
BATCH_SECONDS = 0.25


def examine(row: Row) -> PendingRow | InvalidItem:
    """A valid row, ready to enqueue, or an invalid one with every problem found (reading problems first)."""
    problems = dict(row.problems)
    fields = row.fields
    if fields is not None:
        checks = event_problems(
            person_id=fields.get("personId"),
            identifier_type=fields.get("identifierType"),
            definition_id=fields.get("definitionId"),
            event_id=fields.get("eventId"),
            properties=fields.get("properties"),
        )
        for name, messages in checks.items():
            problems.setdefault(name, messages)
    if problems or fields is None:
        event_id = fields.get("eventId") if fields is not None else None
        return InvalidItem(
            problems=problems,
            original=row.original,
            event_id=event_id if isinstance(event_id, str) else None,
            ref=str(row.line),
        )
    canonical = None if fields.get("eventId") is not None else canonical_row(fields)
    return PendingRow(fields=fields, canonical=canonical, line=row.line)


class Ingest(threading.Thread):
    """Reads ``rows`` into ``journal`` until the input ends or ``stop`` is set; ``error`` holds what stopped it
    early (an unreadable input, a full disk)."""

    def __init__(
        self, journal: Journal, rows: Iterator[Row], source: TrackedInput, state: InputState, stop: threading.Event
    ) -> None:
        super().__init__(name="people-events-ingest", daemon=True)
        self.journal = journal
        self.rows = rows
        self.source = source
        self.state = state
        self.stop = stop
        self.added = 0
        self.invalid = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._read()
        except BaseException as err:  # reported by the command as one line, exit 2
            self.error = err

    def _read(self) -> None:
        batch: list[PendingRow | InvalidItem] = []
        deadline = time.monotonic() + BATCH_SECONDS
        for row in self.rows:
            batch.append(examine(row))
            if self.stop.is_set():
                self._commit(batch, complete=False)
                return
            if len(batch) >= BATCH_ROWS or time.monotonic() >= deadline:
                self._commit(batch, complete=False)
                batch = []
                deadline = time.monotonic() + BATCH_SECONDS
        self._commit(batch, complete=True)

    def _commit(self, batch: list[PendingRow | InvalidItem], *, complete: bool) -> None:
        source = self.source
        self.state = dataclasses.replace(
            self.state,
            bytes=source.bytes,
            lines=source.lines,
            rows=self.state.rows + len(batch),
            sha256=source.digest(),
            complete=complete,
        )
        self.journal.add(batch, self.state)
        self.invalid += sum(isinstance(item, InvalidItem) for item in batch)
        self.added += len(batch)
