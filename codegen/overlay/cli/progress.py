"""Progress of a send: a live bar on a terminal (rich, the ``cli`` extra), else one plain line every few seconds."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import IO, Any, Protocol


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Where a send stands. ``reading``: the input is still being read, so ``total`` may grow."""

    done: int
    total: int
    reading: bool
    sent: int
    rejected: int
    invalid: int
    retrying: int
    rate: float
    limit: int | None

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, or None when unknown."""
        if self.reading or self.rate <= 0:
            return None
        return (self.total - self.done) / self.rate


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def rate_text(snapshot: Snapshot) -> str:
    limit = f" of {snapshot.limit}/s" if snapshot.limit else ""
    return f"{snapshot.rate:.1f}/s{limit}"


def counts_text(snapshot: Snapshot) -> str:
    return (
        f"sent {snapshot.sent}, rejected {snapshot.rejected}, invalid {snapshot.invalid}, retrying {snapshot.retrying}"
    )


def plain_line(snapshot: Snapshot) -> str:
    total = f"{snapshot.total}+ (reading)" if snapshot.reading else str(snapshot.total)
    percent = f" ({100 * snapshot.done / snapshot.total:.1f}%)" if snapshot.total and not snapshot.reading else ""
    return (
        f"people-events: {snapshot.done}/{total} rows{percent}, {rate_text(snapshot)}, {counts_text(snapshot)}, "
        f"ETA {format_duration(snapshot.eta)}"
    )


class Display(Protocol):
    def update(self, snapshot: Snapshot) -> None: ...

    def close(self) -> None: ...


class PlainDisplay:
    """One line every ``interval`` seconds (the first at once), for logs and pipes."""

    def __init__(self, stream: IO[str], interval: float) -> None:
        self._stream = stream
        self._interval = interval
        self._next = 0.0

    def update(self, snapshot: Snapshot) -> None:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self._interval
            self._stream.write(plain_line(snapshot) + "\n")
            self._stream.flush()

    def close(self) -> None:
        return None


class RichDisplay:
    """A live bar: rows done/total, rate against the limit, ETA, and the counts."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("ETA {task.fields[eta]}"),
            TextColumn("{task.fields[counts]}"),
            console=Console(file=stream),
            refresh_per_second=4,
        )
        self._task = self._progress.add_task("sending", total=None, rate="", eta="?", counts="")
        self._progress.start()

    def update(self, snapshot: Snapshot) -> None:
        fields: dict[str, Any] = {
            "rate": rate_text(snapshot),
            "eta": format_duration(snapshot.eta),
            "counts": counts_text(snapshot),
        }
        self._progress.update(
            self._task,
            completed=snapshot.done,
            total=None if snapshot.reading and not snapshot.total else snapshot.total,
            description="reading and sending" if snapshot.reading else "sending",
            **fields,
        )

    def close(self) -> None:
        self._progress.stop()


def make_display(stream: IO[str], *, interval: float) -> Display:
    """The live bar when ``stream`` is a terminal and rich is installed; plain lines otherwise."""
    if stream.isatty():
        try:
            return RichDisplay(stream)
        except ImportError:
            stream.write("people-events: install infobip-people-events-client[cli] for a live progress bar\n")
    return PlainDisplay(stream, interval)
