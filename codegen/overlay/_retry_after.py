"""Parsing of the Retry-After header (RFC 9110 10.2.3): delta-seconds or an HTTP-date."""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait, or None when the header is absent or unparseable. Never negative."""
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
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one is read as such.
            return None
        seconds = when.timestamp() - now()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
