"""`people-events send` as a real process against the mock in its own process: exactly once across `kill -9`,
Ctrl-C, resumption, a changed file, dead letters, credentials, and one-line usage errors.

Every fact is read back from the server (`GET /_mock/events`, and its access log for requests that stored
nothing), never inferred from the command's own output.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis

from people_events_client.cli.event_ids import canonical_row, derive_event_id
from people_events_client.delivery import SQLiteStore
from people_events_mock.testing import MockProcess
from tests.support.bulk import (
    API_KEY,
    bad_identifier_row,
    command,
    environment,
    good_row,
    read_jsonl,
    run,
    unknown_person_row,
    write_jsonl,
    wrong_type_row,
)
from tests.support.mock_admin import clear_faults, send_event_requests, set_faults, stored_events
from tests.support.redis_server import RedisServer

FAULTS = {"500": 0.02, "500-after-store": 0.02, "reset-after-store": 0.02, "reset": 0.01, "delay=300": 0.02}


def expected_event_ids(rows: list[dict[str, Any]]) -> Counter[str]:
    """The eventIds the README's rule gives: the row's own, else uuid5(canonical row, occurrence)."""
    seen: Counter[str] = Counter()
    ids: Counter[str] = Counter()
    for row in rows:
        if "eventId" in row:
            ids[row["eventId"]] += 1
            continue
        canonical = canonical_row(row)
        seen[canonical] += 1
        ids[derive_event_id(canonical, seen[canonical])] += 1
    return ids


def stored_ids(mock: MockProcess) -> Counter[str]:
    return Counter(event["eventId"] for event in stored_events(mock.base_url))


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(command(*args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_stored(mock: MockProcess, process: subprocess.Popen[str], at_least: int, timeout: float = 60) -> None:
    """Wait until the server stored `at_least` events while `process` still runs (so a kill lands mid-run)."""
    deadline = time.monotonic() + timeout
    while len(stored_events(mock.base_url)) < at_least:
        assert process.poll() is None, f"the command ended before {at_least} events were stored"
        assert time.monotonic() < deadline, f"fewer than {at_least} events stored after {timeout} s"
        time.sleep(0.1)


def journaled_rows(journal: Path) -> int:
    """Rows in a journal so far, read without taking any lock a running command could wait on."""
    if not journal.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
            return int(db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def journal_files(journal: Path) -> list[Path]:
    return sorted(journal.parent.glob(journal.name + "*"))


@pytest.mark.slow
def test_exactly_once_across_two_kills_with_mixed_faults(mock: MockProcess, tmp_path: Path) -> None:
    """3,000 good rows (half with their own eventId, some exact duplicates) and 100 bad ones, under mixed faults;
    the command is killed with SIGKILL twice mid-run, then run to its end."""
    good: list[dict[str, Any]] = [
        good_row(n, event_id=f"own-{n}" if n % 2 == 0 else None, tag="crash") for n in range(2980)
    ]
    good += [dict(good[n]) for n in range(1, 40, 2)]  # 20 identical copies of rows without an eventId
    bad = [unknown_person_row(n) for n in range(34)] + [wrong_type_row(n) for n in range(33)]
    bad += [bad_identifier_row(n) for n in range(33)]
    rows: list[dict[str, Any]] = []
    bad_lines: dict[int, dict[str, Any]] = {}
    for n, row in enumerate(good):
        rows.append(row)
        if n % 30 == 7 and len(bad_lines) < len(bad):
            rows.append(bad[len(bad_lines)])
            bad_lines[len(rows)] = rows[-1]
    assert len(bad_lines) == 100
    path = write_jsonl(tmp_path / "backfill.jsonl", rows)
    env = environment(mock.base_url)
    set_faults(mock.base_url, FAULTS)

    first = start([str(path)], env)
    wait_for_stored(mock, first, 700)
    first.kill()
    assert first.wait(10) == -signal.SIGKILL
    stored_after_first = len(stored_events(mock.base_url))
    second = start([str(path)], env)
    wait_for_stored(mock, second, stored_after_first + 900)
    second.kill()
    assert second.wait(10) == -signal.SIGKILL
    final = run([str(path)], env, timeout=180)
    clear_faults(mock.base_url)

    assert final.returncode == 1, final.stdout + final.stderr
    assert "Traceback" not in final.stderr
    assert stored_ids(mock) == expected_event_ids(good), "every good row stored exactly once, nothing else"
    dead = read_jsonl(tmp_path / "backfill.jsonl.rejected.jsonl")
    assert sorted(letter["deadLetter"]["line"] for letter in dead) == sorted(bad_lines)
    for letter in dead:
        info = letter["deadLetter"]
        original = bad_lines[info["line"]]
        assert {k: letter[k] for k in original} == original, "the dead letter holds the original row"
        if original["personId"].startswith("nobody-"):
            assert (info["reason"], info["status"], info["messageId"]) == ("rejected", 404, "NOT_FOUND")
            assert letter["eventId"]
        elif original["identifierType"] == "CARRIER_PIGEON":
            assert (info["reason"], info["status"]) == ("invalid", None)
            assert "must be one of" in info["validationErrors"]["identifierType"][0]
        else:
            assert (info["reason"], info["status"]) == ("rejected", 400)
            assert "properties.totalCost" in info["validationErrors"]
    counts = SQLiteStore(tmp_path / "backfill.jsonl.journal.sqlite").counts()
    assert (counts.sent, counts.rejected, counts.invalid, counts.pending) == (3000, 67, 33, 0)


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_rerun_sends_only_the_rest(mock: MockProcess, tmp_path: Path) -> None:
    rows = [good_row(n, tag="interrupt") for n in range(1000)]
    path = write_jsonl(tmp_path / "events.jsonl", rows)
    env = environment(mock.base_url)
    process = start([str(path)], env)
    wait_for_stored(mock, process, 200)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out + err
    assert "run the same command again to resume" in err
    assert "Traceback" not in err

    store = SQLiteStore(tmp_path / "events.jsonl.journal.sqlite")
    counts = store.counts()
    assert counts.in_flight == 0, "no lease is left behind"
    stored = stored_ids(mock)
    assert counts.sent <= sum(stored.values()) < len(rows), "what the journal marked sent, the server stored"
    store.close()

    again = run([str(path)], env, timeout=60)
    assert again.returncode == 0, again.stdout + again.stderr
    assert stored_ids(mock) == expected_event_ids(rows)


def test_the_same_file_twice_sends_nothing_the_second_time(mock: MockProcess, tmp_path: Path) -> None:
    rows = [good_row(n, tag="twice") for n in range(120)] + [good_row(3, tag="twice")]
    path = write_jsonl(tmp_path / "twice.jsonl", rows)
    env = environment(mock.base_url)
    first = run([str(path)], env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert stored_ids(mock) == expected_event_ids(rows)
    requests = send_event_requests(mock.log_path)

    second = run([str(path)], env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert send_event_requests(mock.log_path) == requests, "the second run sent no request at all"
    assert "this run: 0 sent" in second.stdout
    assert stored_ids(mock) == expected_event_ids(rows)


def test_a_changed_file_under_its_journal_is_explained_and_a_new_journal_sends_only_the_edits(
    mock: MockProcess, tmp_path: Path
) -> None:
    rows = [good_row(n, event_id="own-7" if n == 7 else None, tag="edit") for n in range(60)]
    path = write_jsonl(tmp_path / "edit.jsonl", rows)
    env = environment(mock.base_url)
    assert run([str(path)], env).returncode == 0
    requests = send_event_requests(mock.log_path)

    edited = [dict(row, properties=dict(row["properties"])) for row in rows]
    for n in (7, 20, 40):  # 7 keeps its own eventId: the server answers with the original event
        edited[n]["properties"]["totalCost"] = 999
    write_jsonl(path, edited)
    refused = run([str(path)], env)
    assert refused.returncode == 2
    assert "has changed since the journal started on it" in refused.stderr
    assert "--journal NEW_PATH" in refused.stderr
    assert send_event_requests(mock.log_path) == requests, "nothing was sent"

    fresh = run([str(path), "--journal", str(tmp_path / "second.journal.sqlite")], env)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert stored_ids(mock) == expected_event_ids(rows) + Counter(
        derive_event_id(canonical_row(edited[n]), 1) for n in (20, 40)
    )

    with path.open("a") as out:
        out.write('{"personId": "crm-1001", "identifierType": "EXTERNAL_ID", "definitionId": "addToCart"}\n')
    grown = run([str(path), "--journal", str(tmp_path / "second.journal.sqlite")], env)
    assert grown.returncode == 2
    assert "it has grown" in grown.stderr


def test_rows_from_standard_input_resume_through_the_named_journal(mock: MockProcess, tmp_path: Path) -> None:
    rows = [good_row(n, tag="stdin") for n in range(30)]
    path = write_jsonl(tmp_path / "piped.jsonl", rows)
    env = environment(mock.base_url)
    journal = str(tmp_path / "piped.journal.sqlite")
    with path.open("rb") as stdin:
        done = subprocess.run(
            command("-", "--journal", journal), stdin=stdin, env=env, capture_output=True, check=False
        )
    assert done.returncode == 0, done.stderr
    assert stored_ids(mock) == expected_event_ids(rows)
    assert (tmp_path / "piped.rejected.jsonl").read_text() == ""
    missing = subprocess.run(command("-"), input=b"", env=env, capture_output=True, check=False)
    assert missing.returncode == 2
    assert b"needs --journal PATH" in missing.stderr


def test_credentials_are_never_echoed_nor_written(mock: MockProcess, tmp_path: Path) -> None:
    rows = [good_row(n, tag="secret") for n in range(20)] + [unknown_person_row(1), bad_identifier_row(2)]
    path = write_jsonl(tmp_path / "secret.jsonl", rows)
    env = environment(None, api_key=None)
    done = run([str(path), "--base-url", mock.base_url, "--api-key", API_KEY], env)
    assert done.returncode == 1, done.stdout + done.stderr
    other_journal = str(tmp_path / "other.journal.sqlite")
    refused = run(
        [str(path), "--base-url", mock.base_url, "--api-key", "wrong-secret-4711", "--journal", other_journal], env
    )
    assert refused.returncode == 2
    typo = run([str(path), "--base-url", mock.base_url, "--api-kye", "typo-secret-0815"], env)
    assert typo.returncode == 2
    assert "--api-kye" in typo.stderr
    outputs = [done.stdout, done.stderr, refused.stdout, refused.stderr, typo.stdout, typo.stderr]
    for secret in (API_KEY, "wrong-secret-4711", "typo-secret-0815"):
        assert not any(secret in text for text in outputs)
    written = [*journal_files(tmp_path / "secret.jsonl.journal.sqlite"), tmp_path / "secret.jsonl.rejected.jsonl"]
    assert len(written) >= 2
    for file in written:
        assert API_KEY.encode() not in file.read_bytes(), file


def test_refused_credentials_stop_the_run_without_dead_letters(mock: MockProcess, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "refused.jsonl", [good_row(n, tag="refused") for n in range(40)])
    refused = run([str(path)], environment(mock.base_url, api_key="not-a-key"))
    assert refused.returncode == 2
    assert "refused the credentials" in refused.stderr
    assert (tmp_path / "refused.jsonl.rejected.jsonl").read_text() == ""
    counts = SQLiteStore(tmp_path / "refused.jsonl.journal.sqlite").counts()
    assert (counts.pending, counts.rejected) == (40, 0)
    assert stored_ids(mock) == Counter()


def test_usage_and_input_errors_are_one_line_and_exit_2(mock: MockProcess, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "ok.jsonl", [good_row(1)])
    env = environment(mock.base_url)
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("personId,colour\nx,red\n")
    not_a_journal = tmp_path / "notes.txt"
    not_a_journal.write_text("my notes, not a journal " * 100)
    cases = {
        "missing file": ([str(tmp_path / "missing.jsonl")], env, "cannot read"),
        "no credentials": ([str(good)], environment(None, api_key=None), "no base URL"),
        "no key": ([str(good)], environment(mock.base_url, api_key=None), "no API key"),
        "clear-text URL": ([str(good), "--base-url", "http://example.com"], env, "must use https"),
        "CSV header": ([str(bad_csv)], env, "unknown column 'colour'"),
        "not a journal": ([str(good), "--journal", str(not_a_journal)], env, "not a usable People Events store"),
        "rate limit": ([str(good), "--rate-limit", "0"], env, "must be at least 1"),
        "format": ([str(good), "--format", "xml"], env, "invalid choice"),
    }
    for name, (args, case_env, message) in cases.items():
        result = run(args, case_env)
        assert result.returncode == 2, name
        assert message in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.stderr, name
    assert stored_ids(mock) == Counter()


def test_a_journal_in_use_by_another_process_is_refused(mock: MockProcess, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "busy.jsonl", [good_row(1)])
    journal = tmp_path / "busy.jsonl.journal.sqlite"
    fd = os.open(journal, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        busy = run([str(path)], environment(mock.base_url))
    finally:
        os.close(fd)
    assert busy.returncode == 2
    assert "in use by another people-events process" in busy.stderr
    assert run([str(path)], environment(mock.base_url)).returncode == 0


@pytest.mark.slow
def test_a_kill_while_reading_the_file_resumes_reading_after_the_last_committed_row(
    mock: MockProcess, tmp_path: Path
) -> None:
    """SIGKILL while the file is still being read into the journal: the next run reads on from the last committed
    row, so every line is in the journal exactly once with the eventId the rule gives it."""
    rows = [good_row(n % 40, tag="ingest") for n in range(40_000)]  # many identical rows: occurrence numbers matter
    path = write_jsonl(tmp_path / "big.jsonl", rows)
    journal = tmp_path / "big.jsonl.journal.sqlite"
    env = environment(mock.base_url)
    first = start([str(path)], env)
    deadline = time.monotonic() + 60
    while journaled_rows(journal) < 5_000:
        assert first.poll() is None, "the command ended before it was killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first.kill()
    first.wait(10)
    assert journaled_rows(journal) < len(rows), "killed mid-read"

    second = start([str(path), "--progress-interval", "0.2"], env)
    deadline = time.monotonic() + 120
    while journaled_rows(journal) < len(rows):
        assert second.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.1)
    second.send_signal(signal.SIGINT)
    _, err = second.communicate(timeout=30)
    assert second.returncode == 130, err

    with sqlite3.connect(journal) as db:
        lines = [int(ref) for (ref,) in db.execute("SELECT ref FROM events ORDER BY seq")]
        ids = Counter(event_id for (event_id,) in db.execute("SELECT event_id FROM events"))
    assert lines == list(range(1, len(rows) + 1)), "every line once, in order"
    assert ids == expected_event_ids(rows)
    sent = {event["eventId"] for event in stored_events(mock.base_url)}
    assert sent <= set(ids), "nothing but the file's events reached the server"


@pytest.mark.redis
def test_redis_paces_the_send_and_it_still_lands_exactly_once(
    mock: MockProcess, redis_server: RedisServer, tmp_path: Path
) -> None:
    rows = [good_row(n, tag="redis") for n in range(300)]
    path = write_jsonl(tmp_path / "redis.jsonl", rows)
    done = run([str(path), "--redis", redis_server.url], environment(mock.base_url))
    assert done.returncode == 0, done.stdout + done.stderr
    assert stored_ids(mock) == expected_event_ids(rows)
    assert redis.Redis.from_url(redis_server.url).keys("{people_events:pacing:*")


def test_journal_and_dead_letters_are_readable_by_their_owner_only(mock: MockProcess, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "private.jsonl", [good_row(1), unknown_person_row(2)])
    assert run([str(path)], environment(mock.base_url)).returncode == 1
    for file in (tmp_path / "private.jsonl.journal.sqlite", tmp_path / "private.jsonl.rejected.jsonl"):
        assert file.stat().st_mode & 0o077 == 0, oct(file.stat().st_mode)
