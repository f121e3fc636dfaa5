"""Request paths: the raw path as sent, the Send Event route's pattern, and the redacted form the access log shows.

Routing is on the raw (still percent-encoded) path, so an id holding ``%2F`` stays one segment. The access
log never shows a person id: it redacts the segment after every ``persons`` segment of the *normalised* path
(percent-decoded for the comparison, any case, empty and dot segments resolved), so ``//peopleevents/...``,
``/PeopleEvents/2/Persons/...`` or ``/x/../peopleevents/...`` mask as well as the canonical form.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote, unquote

from starlette.types import Scope

from people_events_mock.spec import SEND_EVENT_TEMPLATE

__all__ = ["REDACTED", "SEND_EVENT_PATH", "raw_path", "redact_path"]

#: The Send Event route, from the spec's template, matched against the raw path.
SEND_EVENT_PATH: Final = re.compile(
    "^"
    + re.escape(SEND_EVENT_TEMPLATE)
    .replace(re.escape("{personId}"), "(?P<person_id>[^/]*)")
    .replace(re.escape("{definitionId}"), "(?P<definition_id>[^/]*)")
    + "$"
)
REDACTED: Final = "<redacted>"
_PERSONS: Final = "persons"


def raw_path(scope: Scope) -> str:
    """The request path as sent, still percent-encoded (without the query string)."""
    raw: bytes | None = scope.get("raw_path")
    if raw is None:
        return quote(scope["path"], safe="/:@!$&'()*+,;=~-._")
    return raw.split(b"?", 1)[0].decode("latin-1")


def _normalised_segments(path: str) -> list[str]:
    """The path's segments with empty, ``.`` and ``..`` segments resolved (RFC 3986 §5.2.4, also when encoded)."""
    segments: list[str] = []
    for segment in path.split("/"):
        decoded = unquote(segment)
        if decoded in ("", "."):
            continue
        if decoded == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    return segments


def redact_path(path: str) -> str:
    """The normalised path with the segment after each ``persons`` segment replaced by ``<redacted>``."""
    segments = _normalised_segments(path)
    for index, segment in enumerate(segments[:-1]):
        if unquote(segment).lower() == _PERSONS:
            segments[index + 1] = REDACTED
    return "/" + "/".join(segments)
