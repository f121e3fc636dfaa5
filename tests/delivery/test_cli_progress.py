"""Progress of `people-events send`: a live bar in a pseudo-terminal, plain lines without one, always a summary."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

from people_events_mock.testing import MockProcess
from tests.support.bulk import command, environment, good_row, run, write_jsonl
from tests.support.mock_admin import stored_events

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_in_terminal(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run the command with stdout and stderr on a pseudo-terminal; returns the exit code and everything shown."""
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        command(*args), stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env, close_fds=True
    )
    os.close(terminal)
    shown = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    os.close(main)
    return process.wait(timeout=10), shown.decode("utf-8", "replace")


def test_a_terminal_gets_a_live_bar_with_rate_eta_and_counts(mock: MockProcess, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "tty.jsonl", [good_row(n, tag="tty") for n in range(400)])
    env = {**environment(mock.base_url), "TERM": "xterm-256color", "COLUMNS": "160"}
    code, shown = run_in_terminal([str(path)], env)

    assert code == 0, shown
    assert ANSI.search(shown), "the display redraws itself with terminal escapes"
    plain = ANSI.sub("", shown)
    assert "━" in plain, "a bar is drawn"
    assert re.search(r"sending .*\d+/400", plain), "rows done/total"
    assert re.search(r"\d+\.\d/s of 250/s", plain), "rate against the limit"
    assert re.search(r"ETA \d+m\d\ds", plain)
    assert re.search(r"sent \d+, rejected 0, invalid 0, retrying \d+", plain)
    assert "400 rows: 400 sent" in plain, "the final summary"
    assert len(stored_events(mock.base_url)) == 400


def test_without_a_terminal_progress_is_plain_lines_every_interval(mock: MockProcess, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "pipe.jsonl", [good_row(n, tag="pipe") for n in range(500)])
    result = run([str(path), "--progress-interval", "0.5"], environment(mock.base_url))

    assert result.returncode == 0, result.stderr
    assert not ANSI.search(result.stderr + result.stdout)
    lines = [line for line in result.stderr.splitlines() if line.startswith("people-events: ")]
    pattern = re.compile(
        r"people-events: \d+/\d+\+? (\(reading\) )?rows( \(\d+\.\d%\))?, \d+\.\d/s of 250/s, "
        r"sent \d+, rejected \d+, invalid \d+, retrying \d+, ETA (\?|\d+m\d\ds|\d+h\d\dm)"
    )
    assert len(lines) >= 3, result.stderr
    assert all(pattern.fullmatch(line) for line in lines), lines
    assert "500 rows: 500 sent, 0 rejected, 0 invalid, 0 pending" in result.stdout
