"""Tunables and fixed facts of the reference mock, in one place. Times are in seconds."""

from __future__ import annotations

import re
from typing import Final

#: The Send Event path, matched against the raw (still percent-encoded) request path.
SEND_EVENT_PATH_REGEX: Final = re.compile(
    r"^/peopleevents/2/persons/(?P<person_id>[^/]*)/definitions/(?P<definition_id>[^/]*)/events$"
)
#: The admin API's prefix (test-only, unauthenticated).
ADMIN_PREFIX: Final = "/_mock"

#: Scopes of which a credential needs at least one to send events (the spec's `x-scopes`).
SEND_EVENT_SCOPES: Final = frozenset({"people:manage", "people:use", "web:sdk"})

#: The rate limiter's rolling window.
RATE_LIMIT_WINDOW_SECONDS: Final = 1.0

#: Bodies larger than this get 413.
MAX_BODY_BYTES: Final = 512_000

#: Path parameter limits (the spec's maxLength).
PERSON_ID_MAX_LENGTH: Final = 256
DEFINITION_ID_MAX_LENGTH: Final = 36

#: The body's optional eventId: 1-36 letters, digits, underscores or hyphens.
EVENT_ID_REGEX: Final = re.compile(r"[A-Za-z0-9_-]{1,36}")

#: Identifier types, in the spec's order.
IDENTIFIER_TYPES: Final = (
    "ID",
    "EXTERNAL_ID",
    "PHONE",
    "EMAIL",
    "LINE",
    "FACEBOOK",
    "TELEGRAM",
    "PUSH",
    "WEB_PUSH",
    "LIVE_CHAT",
    "VIBER_BOTS",
    "INSTAGRAM",
    "INSTAGRAM_DM",
    "TWITTER",
    "APPLE_BUSINESS_CHAT",
    "KAKAO_SANGDAM",
    "GOOGLE_BUSINESS_MESSAGES",
    "WHATSAPP",
    "ZALO_FOLLOWER",
    "TIKTOK_BM",
)
#: Identifier types for which `createPerson=true` creates a missing person.
CREATABLE_IDENTIFIER_TYPES: Final = frozenset({"PHONE", "EMAIL", "EXTERNAL_ID"})

#: Request media types accepted as JSON (besides any `application/*+json`).
JSON_MEDIA_TYPES: Final = frozenset({"application/json", "text/json", "application/json-patch+json"})
#: Charsets accepted in a JSON Content-Type (JSON is UTF-8; ASCII is a subset).
JSON_CHARSETS: Final = frozenset({"utf-8", "utf8", "us-ascii"})

#: The per-request fault header.
FAULT_HEADER: Final = "x-mock-fault"
#: Upper bound of the `delay=<ms>` fault (milliseconds, the fault syntax's one exception to seconds).
MAX_DELAY_MS: Final = 60_000

#: uvicorn's h11 limit for a request head; raised from 16 KiB so that a huge Authorization header
#: reaches the app and gets a JSON 401 instead of uvicorn's plain-text 400.
MAX_REQUEST_HEAD_BYTES: Final = 1024 * 1024

#: The `metadata` of every event sent through the API.
EVENT_METADATA_SOURCE: Final = "API"
