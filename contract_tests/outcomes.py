"""What the client does with each status, as its README promises ("What the facade guarantees"): the typed error it
raises, and whether it retries. Shared by the respx client contract and the Prism cross-checks, which serve every
status openapi.yaml documents (from its examples), so a newly documented status is covered without an edit."""

from __future__ import annotations

from typing import Final

from people_events_client import (
    BadRequest,
    Forbidden,
    NotFound,
    PeopleEventsError,
    RateLimited,
    ServerError,
    Unauthorized,
)

__all__ = ["TYPED_ERRORS", "expected_attempts", "expected_error"]

#: The 4xx statuses with a class of their own; any other 4xx raises the base class, any 5xx ServerError.
TYPED_ERRORS: Final[dict[int, type[PeopleEventsError]]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    429: RateLimited,
}
_THROTTLED: Final = 429
_FIRST_SERVER_ERROR: Final = 500


def expected_error(status: int) -> type[PeopleEventsError]:
    """The class the facade raises for `status`."""
    return ServerError if status >= _FIRST_SERVER_ERROR else TYPED_ERRORS.get(status, PeopleEventsError)


def expected_attempts(status: int, max_retries: int) -> int:
    """429 and 5xx are retried (every send carries an eventId), `max_retries` times; nothing else is."""
    return max_retries + 1 if status == _THROTTLED or status >= _FIRST_SERVER_ERROR else 1
