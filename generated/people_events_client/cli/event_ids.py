# copied from codegen/overlay/cli/event_ids.py by `make regenerate`; edit there, never here.
"""Deterministic eventIds for input rows that carry none.

A row's eventId is ``uuid5(NAMESPACE, canonical_row + "\\n" + str(occurrence))``:

- ``canonical_row`` is the row's JSON with sorted keys and no spaces, over ``createPerson`` (false when absent),
  ``definitionId``, ``identifierType``, ``personId`` and ``properties`` (null when absent), with the typed values
  (so a CSV row and the JSONL row it equals get the same id);
- ``occurrence`` is 1 for the first row of the file with that canonical form, 2 for the second identical row...

Re-sending the same file gives every row the same eventId, so the server records nothing twice even after a
crash, and editing one row changes no other row's eventId.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

NAMESPACE = uuid.UUID("8b1e5f4c-3a6d-5c2e-9f71-0d4b2a6c8e13")
"""The UUIDv5 namespace of derived eventIds (fixed forever: changing it would change every derived id)."""


def canonical_row(row: Mapping[str, Any]) -> str:
    """The canonical text of a typed row (JSONL form), without its eventId."""
    return json.dumps(
        {
            "createPerson": bool(row.get("createPerson", False)),
            "definitionId": row["definitionId"],
            "identifierType": row["identifierType"],
            "personId": row["personId"],
            "properties": row.get("properties"),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def derive_event_id(canonical: str, occurrence: int) -> str:
    """The eventId of the ``occurrence``-th (1-based) row with this canonical text."""
    if occurrence < 1:
        raise ValueError("occurrence numbers start at 1")
    return str(uuid.uuid5(NAMESPACE, f"{canonical}\n{occurrence}"))
