"""Rolling-window counting over server-side acceptance times (the mock's ``acceptedAt``)."""

from people_events_mock.testing import max_per_rolling_second

__all__ = ["max_per_rolling_second"]
