"""Tunables of the reference mock, and the facts openapi.yaml cannot express, in one place. Times are in seconds.

Identifier types, id lengths, the eventId pattern, required fields, documented statuses and the body size
limit are not here: they come from openapi.yaml (spec.py).
"""

from __future__ import annotations

from typing import Final

#: The admin API's prefix (test-only).
ADMIN_PREFIX: Final = "/_mock"

#: Scopes of which a credential needs at least one to send events (the spec's `x-scopes`, an extension that
#: lists them; which scope a credential holds is fixture data).
SEND_EVENT_SCOPES: Final = frozenset({"people:manage", "people:use", "web:sdk"})

#: The rate limiter's rolling window. The limit itself is fixture data (250/s); the spec says it in prose only.
RATE_LIMIT_WINDOW_SECONDS: Final = 1.0

#: Identifier types for which `createPerson=true` creates a missing person (the spec says so in prose only).
CREATABLE_IDENTIFIER_TYPES: Final = frozenset({"PHONE", "EMAIL", "EXTERNAL_ID"})

#: Request media types accepted as JSON (besides any `application/*+json`). The spec declares only
#: application/json, on purpose (see its description); Infobip accepts these too.
JSON_MEDIA_TYPES: Final = frozenset({"application/json", "text/json", "application/json-patch+json"})
#: Charsets accepted in a JSON Content-Type (JSON is UTF-8; ASCII is a subset).
JSON_CHARSETS: Final = frozenset({"utf-8", "utf8", "us-ascii"})
#: Content-Encoding values that leave the body as sent; anything else is 415.
IDENTITY_ENCODINGS: Final = frozenset({"", "identity"})

#: The per-request fault header.
FAULT_HEADER: Final = "x-mock-fault"
#: Upper bound of the `delay=<ms>` fault (milliseconds, the fault syntax's one exception to seconds).
MAX_DELAY_MS: Final = 60_000

#: The most validationErrors entries one 400 lists (the rest are counted under OMITTED_ERRORS_KEY), and the
#: longest path or message kept: a 480 KB body of bad properties must not draw a 5 MB answer.
MAX_VALIDATION_ERRORS: Final = 50
MAX_VALIDATION_TEXT: Final = 200
OMITTED_ERRORS_KEY: Final = "_omitted"

#: The `metadata` of every event sent through the API.
EVENT_METADATA_SOURCE: Final = "API"

# --- state bounds -----------------------------------------------------------------------------------------

#: Default memory budget of stored events (``--max-store-mb``); past it the oldest events are evicted.
DEFAULT_MAX_STORE_BYTES: Final = 100 * 1024 * 1024
#: Bytes counted per stored event and per created person beside their JSON (objects, index entries).
EVENT_OVERHEAD_BYTES: Final = 400
PERSON_OVERHEAD_BYTES: Final = 250
#: Admin bodies are streamed and refused with 413 past this size.
MAX_ADMIN_BODY_BYTES: Final = 1_000_000
#: GET /_mock/events: events per page unless `limit` says otherwise, the largest `limit`, and the most bytes
#: of event JSON one page carries (a page always holds at least one event).
DEFAULT_PAGE_SIZE: Final = 10_000
MAX_PAGE_SIZE: Final = 10_000
MAX_PAGE_BYTES: Final = 16 * 1024 * 1024

# --- HTTP edge --------------------------------------------------------------------------------------------

#: The longest request head (request line and headers) the server reads; over it, a JSON 400. 1 MiB, so
#: that a huge Authorization header reaches the app and gets a JSON 401.
MAX_REQUEST_HEAD_BYTES: Final = 1024 * 1024
#: A connection must complete a request head within this time of opening or of its previous response.
DEFAULT_HEADER_TIMEOUT_SECONDS: Final = 10.0
#: A request's body must be complete within this time of its head (in total: trickling does not extend it).
DEFAULT_BODY_TIMEOUT_SECONDS: Final = 10.0
#: A keep-alive connection with no new request for this long is closed.
DEFAULT_KEEP_ALIVE_TIMEOUT_SECONDS: Final = 5.0
#: File descriptors kept free below the soft limit for everything but client connections (listening
#: sockets, logs, the event loop's own); the connection cap is the soft limit minus this.
RESERVED_FILE_DESCRIPTORS: Final = 64
#: At most one warning per this interval while connections are refused at the cap.
CONNECTION_WARNING_INTERVAL_SECONDS: Final = 10.0
