# copied from codegen/overlay/_fork.py by `make regenerate`; edit there, never here.
"""Fork detection: what must not cross ``os.fork()`` is rebuilt in the child.

A forked child (gunicorn ``--preload``, Celery prefork, multiprocessing's fork context) inherits the parent's
sockets, locks held by threads that do not exist in the child, and limiter state whose leak threads are gone.
Process-wide state registers a reset here; objects compare ``generation()`` with the one they were built in
and rebuild their connection pools and pacing on the first use after a fork.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

_generation = 0
_resets: list[Callable[[], None]] = []
_lock = threading.Lock()


def rebuild_lock() -> threading.Lock:
    """This process's lock for rebuilding state after a fork (new in every child, so never inherited held)."""
    return _lock


def generation() -> int:
    """Increases in a child after each fork; 0 in a process that never forked from one using this package."""
    return _generation


def reset_in_child(reset: Callable[[], None]) -> None:
    """Call ``reset`` in every forked child, before anything else runs there (only rebind state; take no locks)."""
    _resets.append(reset)


def _after_fork_in_child() -> None:
    global _generation, _lock  # noqa: PLW0603  (the reset is a rebinding: the child never touches the parent's objects)
    _generation += 1
    _lock = threading.Lock()
    for reset in _resets:
        reset()


os.register_at_fork(after_in_child=_after_fork_in_child)
