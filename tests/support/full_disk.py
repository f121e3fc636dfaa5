"""A full disk for the outbox tests: a small tmpfs mounted by the test, and enqueueing until the outbox refuses.

Mounting needs root (CI runs as root): a run as another user skips, and so does a root run where ``mount`` fails
(a container without ``CAP_SYS_ADMIN``), except under CI, where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from people_events_client.outbox import Outbox, QueueFull

FILL_LIMIT = 5000
"""The most events `fill` tries: far more than a disk of a few MiB holds."""


@contextlib.contextmanager
def small_tmpfs(size_kib: int, *, owner: str | None = None) -> Iterator[Path]:
    """A tmpfs of `size_kib`, mounted for the test (needs root) and owned by the user `owner` if given (the
    ``postgres`` user, for a tablespace); unmounted and removed at the end, even on failure."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    folder = Path(tempfile.mkdtemp(prefix="people-events-tmpfs-"))
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(folder)]
    try:
        mounted = subprocess.run(mount, capture_output=True, text=True, timeout=30, check=False)
    except OSError as error:  # no mount(8) at all
        mounted = subprocess.CompletedProcess(mount, 127, "", str(error))
    if mounted.returncode != 0:
        folder.rmdir()
        reason = f"cannot mount a tmpfs as root: {mounted.stderr.strip() or mounted.returncode}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        if owner is not None:
            account = pwd.getpwnam(owner)
            os.chown(folder, account.pw_uid, account.pw_gid)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, timeout=30)
        folder.rmdir()


@dataclass
class Filled:
    """What `fill` enqueued: the eventIds `enqueue` returned, those it refused, and its last refusal."""

    accepted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    refusal: QueueFull | None = None


def enqueue_kilobyte(outbox: Outbox, event_id: str, **options: Any) -> str:
    """Enqueue an event of about 1 KB (``options``: e.g. ``connection=``)."""
    return outbox.enqueue(
        "crm-1001",
        "addToCart",
        identifier_type="EXTERNAL_ID",
        properties={"transactionId": "p" * 1000},
        event_id=event_id,
        **options,
    )


def fill(outbox: Outbox, *, refusals_in_a_row: int = 1) -> Filled:
    """Enqueue events of about 1 KB (eventIds ``disk-0``, ``disk-1``, ...) until the outbox refuses
    `refusals_in_a_row` in a row (at most `FILL_LIMIT` tries). Anything but `QueueFull` propagates."""
    filled = Filled()
    in_a_row = 0
    for number in range(FILL_LIMIT):
        event_id = f"disk-{number}"
        try:
            enqueue_kilobyte(outbox, event_id)
        except QueueFull as refused:
            filled.refused.append(event_id)
            filled.refusal = refused
            in_a_row += 1
            if in_a_row == refusals_in_a_row:
                return filled
        else:
            filled.accepted.append(event_id)
            in_a_row = 0
    pytest.fail(f"{FILL_LIMIT:,} events fitted")
