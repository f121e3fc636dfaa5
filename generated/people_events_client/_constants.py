# copied from codegen/overlay/_constants.py by `make regenerate`; edit there, never here.
"""Defaults of the client layer, in one place. All times are in seconds."""

from typing import Final

DEFAULT_CONNECT_TIMEOUT: Final = 5.0
DEFAULT_READ_TIMEOUT: Final = 30.0

DEFAULT_MAX_RETRIES: Final = 3
"""Retries after the first attempt: 3 means at most 4 attempts."""
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
MAX_RETRY_AFTER: Final = 60.0
"""Cap on a server's Retry-After, so a hostile or broken value cannot park a sender."""

DEFAULT_RATE_LIMIT: Final = 250
"""Infobip's Send Event limit, requests per second per account (x-throttling-info)."""
PACING_BURST_DIVISOR: Final = 50
"""Spacing lets a fiftieth of the budget go at once (5 permits at 250/s): small bursts, fewer cold connections."""
PACING_MARGIN_MS: Final = 5
"""The client's one-second window is this much longer than the server's: a permit counts from when its request was
written, and the server counts it on arrival, so the margin covers differences in transit (jitter). At 5 ms the
rate can reach 99.5% of the limit; with 100 ms of latency, 20,000 sends drew 4 server 429s, each retried
(BENCHMARKS.md, "Bulk send")."""
PACING_TAKERS: Final = 4
"""Waiters of one budget in a process that may ask it for a permit at once: one would serialise fleet pacing on
Redis round trips; more would wake in herds."""
PACING_RELEASE_DELAY: Final = 1.005
"""A budget no facade holds any more is kept this long (its longest window), so that facades created and closed
one after another still share it."""
PACING_MIN_WAIT: Final = 0.001
"""The shortest sleep while the budget is spent (the windows count whole milliseconds)."""

FLEET_CALL_TIMEOUT: Final = 0.5
"""Default bound on one call to the shared limiter (Redis); a deadline shortens it further."""
FLEET_DEADLINE_SHARE: Final = 0.5
"""A call to the shared limiter may use at most this share of a send's remaining deadline, leaving the rest for the
in-process fallback and the request itself."""
FLEET_MIN_CALL: Final = 0.05
"""A call bounded below this by a nearly spent deadline that goes unanswered says nothing about Redis: it falls back
for this send without opening the circuit."""
FLEET_POLL_INTERVAL: Final = 0.05
"""While a caller waits on Redis, it checks this often whether another caller has opened the circuit."""
FLEET_INCONCLUSIVE_TRIPS: Final = 3
"""Unanswered calls in a row, each too short to count alone, that open the circuit all the same."""
FLEET_COOLDOWN: Final = 30.0
"""After the shared limiter fails, every caller paces in-process for this long, then Redis is tried again.
(A circuit breaker's open time, not a Retry-After.)"""

PERSON_ID_MAX_LENGTH: Final = 256
"""openapi.yaml: personId maxLength."""
DEFINITION_ID_MAX_LENGTH: Final = 36
"""openapi.yaml: definitionId maxLength."""
EVENT_ID_PATTERN: Final = r"[A-Za-z0-9_-]{1,36}"
"""openapi.yaml: EventRequest.eventId pattern."""

MAX_SECONDS: Final = 86_400.0
"""The longest deadline or timeout accepted (a day)."""

LOGGER_NAME: Final = "people_events_client"
