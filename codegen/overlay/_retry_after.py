"""Parsing of the Retry-After header (RFC 9110 10.2.3): delta-seconds or an HTTP-date."""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait, or None when the header is absent, unparseable or negative (the caller then backs off).

    An HTTP-date in the past gives 0. A date without a zone (no "GMT") is refused: RFC 9110 dates are always
    GMT, and guessing a local zone could be off by hours.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = max(0.0, when.timestamp() - now())
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds
