"""Run code in forked children, as pre-fork servers do (gunicorn --preload, Celery prefork), with a time bound."""

from __future__ import annotations

import json
import os
import select
import signal
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any


def in_forked_children(work: Callable[[int], Any], children: int, *, timeout: float = 30.0) -> list[Any]:
    """Fork ``children`` processes from this one; child ``i`` runs ``work(i)`` and sends back its JSON-able result.

    A child that raises reports ``{"error": traceback}``; one still running after ``timeout`` seconds is killed
    and reported as ``{"error": "timed out"}``. Children leave with ``os._exit``, never through pytest.
    """
    pipes: list[tuple[int, int]] = []
    for index in range(children):
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: "process is multi-threaded, fork() ..."
            pid = os.fork()
        if pid == 0:
            os.close(read_end)
            try:
                payload = json.dumps({"result": work(index)})
            except BaseException:
                payload = json.dumps({"error": traceback.format_exc()})
            os.write(write_end, payload.encode())
            os._exit(0)
        os.close(write_end)
        pipes.append((pid, read_end))
    deadline = time.monotonic() + timeout
    results = []
    for pid, read_end in pipes:
        chunks = []
        while True:
            ready, _, _ = select.select([read_end], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                chunks = [json.dumps({"error": "timed out"}).encode()]
                break
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(read_end)
        os.waitpid(pid, 0)
        answer = json.loads(b"".join(chunks) or b'{"error": "no answer"}')
        results.append(answer.get("result", answer))
    return results


def describe_error(error: BaseException) -> dict[str, Any]:
    """The public attributes of a client error, as seen by the process that received it (for pool workers)."""
    names = (
        "status",
        "message_id",
        "text",
        "validation_errors",
        "retry_after",
        "event_id",
        "may_be_stored",
        "response",
    )
    return {"type": type(error).__name__, "message": str(error), **{name: getattr(error, name, None) for name in names}}
