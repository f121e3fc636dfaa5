"""What every store writes and reads the same way: JSON columns, problem text, final records, room errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import QueueFull
from .events import Claimed, FinishedRecord, NewEvent


def to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def insert_rows(events: Iterable[NewEvent]) -> list[tuple[Any, ...]]:
    """event_id, person_id, identifier_type, definition_id, properties (JSON text), create_person, ref."""
    return [
        (e.event_id, e.person_id, e.identifier_type, e.definition_id, to_json(e.properties), e.create_person, e.ref)
        for e in events
    ]


def problem_text(problems: Mapping[str, list[str]]) -> str:
    return "; ".join(f"{name}: {message}" for name, messages in problems.items() for message in messages)


def room_error(pending: int, max_pending: int) -> QueueFull:
    return QueueFull(
        f"the outbox holds {pending} pending events and its max_pending is {max_pending}: nothing was enqueued",
        reason="max_pending",
    )


def claimed_events(rows: Iterable[tuple[Any, ...]], decode: Callable[[Any], Any] = from_json) -> list[Claimed]:
    """Claimed events, oldest first, from rows of (seq, event_id, person_id, identifier_type, definition_id,
    properties, create_person, ref, rounds) as a claim's ``RETURNING`` gives them (in no defined order)."""
    claimed = [
        Claimed(
            seq=seq,
            event=NewEvent(
                event_id=event_id,
                person_id=person_id,
                identifier_type=identifier_type,
                definition_id=definition_id,
                properties=decode(properties),
                create_person=bool(create_person),
                ref=ref,
            ),
            rounds=rounds,
        )
        for seq, event_id, person_id, identifier_type, definition_id, properties, create_person, ref, rounds in rows
    ]
    claimed.sort(key=lambda item: item.seq)
    return claimed


def finished_record(row: tuple[Any, ...], decode: Callable[[Any], Any] = from_json) -> FinishedRecord:
    """A row of (seq, state, event_id, person_id, identifier_type, definition_id, properties, create_person, ref,
    status, message_id, text, validation_errors, original); ``decode`` turns the JSON columns into values (SQLite
    keeps JSON as text; psycopg has already decoded it)."""
    (seq, state, event_id, person_id, identifier_type, definition_id, properties, create_person, ref,
     status, message_id, text, validation_errors, original) = row  # fmt: skip
    return FinishedRecord(
        seq=seq,
        state=state,
        event_id=event_id,
        person_id=person_id,
        identifier_type=identifier_type,
        definition_id=definition_id,
        properties=decode(properties),
        create_person=bool(create_person),
        ref=ref,
        status=status,
        message_id=message_id,
        text=text,
        validation_errors=decode(validation_errors) or {},
        original=original,
    )
