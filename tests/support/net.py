"""Loopback networking helpers."""

from people_events_mock.testing import free_port

__all__ = ["free_port"]
