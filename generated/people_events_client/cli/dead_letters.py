# copied from codegen/overlay/cli/dead_letters.py by `make regenerate`; edit there, never here.
"""The dead-letter file: every rejected or invalid row of the journal, as JSONL that can be fixed and re-sent.

Each line is the row in its JSONL form, with ``eventId`` set to the id that was used (so a re-send can never
store an event twice), plus a ``deadLetter`` object: ``line`` (in the input), ``reason`` (``rejected`` by the
server, or ``invalid`` locally and never sent), ``status`` (None when no response came), ``messageId``,
``text`` and ``validationErrors``; and ``raw`` (the input text) for a row that could not be read as a row.

The file is rewritten from the journal at the end of every run (atomically: a temporary file, then a rename),
so it always lists exactly the journal's dead letters, whatever happened to earlier runs.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from ..delivery import FinishedRecord, Store


def dead_letter(record: FinishedRecord) -> dict[str, Any]:
    """One line of the file."""
    letter: dict[str, Any] = {
        "line": int(record.ref) if record.ref and record.ref.isdigit() else record.ref,
        "reason": record.state,
        "status": record.status,
        "messageId": record.message_id,
        "text": record.text,
        "validationErrors": dict(record.validation_errors),
    }
    row: dict[str, Any]
    if record.state == "invalid":
        original = json.loads(record.original) if record.original else None
        if isinstance(original, dict):
            row = dict(original)
        else:
            row = {}
            letter["raw"] = original
    else:
        row = {
            "personId": record.person_id,
            "identifierType": record.identifier_type,
            "definitionId": record.definition_id,
            "eventId": record.event_id,
        }
        if record.properties is not None:
            row["properties"] = record.properties
        if record.create_person:
            row["createPerson"] = True
    row["deadLetter"] = letter
    return row


def _line(value: dict[str, Any]) -> str:
    try:
        return json.dumps(value, ensure_ascii=False).encode("utf-8").decode("utf-8") + "\n"
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape in the input: keep it escaped
        return json.dumps(value) + "\n"


def write_dead_letters(store: Store, path: Path) -> int:
    """Write the store's rejected and invalid rows to ``path``; returns how many."""
    temporary = path.with_name(path.name + ".tmp")
    count = 0
    try:
        # Owner-only, like the journal: dead letters hold person ids and properties.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8") as out:
            for record in store.finished(("rejected", "invalid")):
                out.write(_line(dead_letter(record)))
                count += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return count
