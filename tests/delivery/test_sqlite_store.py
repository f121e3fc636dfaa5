"""The SQLite store on real SQLite files: schema and version, claims under leases, outcomes, transactions, and
several processes claiming from one file (one of them killed with SIGKILL)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from collections import Counter
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import pytest

from people_events_client.delivery import (
    SCHEMA_VERSION,
    Counts,
    Invalid,
    InvalidItem,
    NewEvent,
    QueueFull,
    Rejected,
    Retry,
    Sent,
    SQLiteStore,
    StoreError,
    StoreUnavailable,
)
from tests.support.clock import FakeClock


def events(count: int, start: int = 0) -> list[NewEvent]:
    return [
        NewEvent(
            event_id=f"e-{n}",
            person_id="crm-1001",
            identifier_type="EXTERNAL_ID",
            definition_id="addToCart",
            properties={"n": n, "text": "é"},
            create_person=n % 2 == 0,
            ref=str(n),
        )
        for n in range(start, start + count)
    ]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> SQLiteStore:
    return SQLiteStore(tmp_path / "store.sqlite", clock=clock)


def test_a_new_store_is_wal_with_a_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    db.close()
    SQLiteStore(path).close()  # reopening an existing store works


def test_a_version_1_store_is_upgraded_in_place_and_keeps_its_events(tmp_path: Path) -> None:
    """Version 2 added the index that retention pruning reads; a version 1 file (the first bulk CLI journals) gets
    it when opened, and nothing else changes."""
    path = tmp_path / "v1.sqlite"
    store = SQLiteStore(path)
    store.enqueue(events(3))
    store.close()
    db = sqlite3.connect(path)
    db.execute("DROP INDEX events_sent")
    db.execute("PRAGMA user_version = 1")
    db.close()
    upgraded = SQLiteStore(path)
    assert upgraded.counts().pending == 3
    upgraded.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'events_sent'").fetchone()[0] == 1
    db.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="schema version 3; this client reads version 2"):
        SQLiteStore(path)


def test_files_that_are_not_stores_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE t (x)")
    db.close()
    with pytest.raises(StoreError, match="not a People Events store"):
        SQLiteStore(foreign)
    text = tmp_path / "notes.txt"
    text.write_text("just some text, long enough to be read as a database header " * 20)
    with pytest.raises(StoreError, match="not a usable People Events store"):
        SQLiteStore(text)


def test_claims_lease_the_oldest_due_events_and_keep_every_field(store: SQLiteStore) -> None:
    store.enqueue(events(5))
    first = store.claim("a", 3, lease_seconds=30)
    assert [c.seq for c in first] == [1, 2, 3]
    assert first[0].event == events(1)[0]
    assert first[0].rounds == 0
    assert [c.seq for c in store.claim("b", 10, lease_seconds=30)] == [4, 5]
    assert store.claim("c", 10, lease_seconds=30) == []
    assert store.counts() == Counts(pending=5, in_flight=5, oldest_pending_age=0.0)


def test_an_expired_lease_is_claimed_by_another_drainer_with_the_same_event(
    store: SQLiteStore, clock: FakeClock
) -> None:
    store.enqueue(events(2))
    [held, renewed] = store.claim("dead", 2, lease_seconds=10)
    clock.advance(8)
    assert store.renew("dead", 10) == 2
    clock.advance(8)
    assert store.claim("other", 10, lease_seconds=10) == []  # renewed at 8 s: live until 18 s
    clock.advance(3)
    again = store.claim("other", 10, lease_seconds=10)
    assert [c.event.event_id for c in again] == [held.event.event_id, renewed.event.event_id]


def test_release_and_expire_give_leases_back_without_using_a_round(store: SQLiteStore) -> None:
    store.enqueue(events(3))
    store.claim("a", 2, lease_seconds=60)
    store.claim("b", 1, lease_seconds=60)
    assert store.release("a") == 2
    assert [c.rounds for c in store.claim("c", 5, lease_seconds=60)] == [0, 0]
    assert store.expire_leases() == 3
    assert len(store.claim("d", 5, lease_seconds=60)) == 3


def test_outcomes_are_recorded_and_final(store: SQLiteStore) -> None:
    store.enqueue(events(4))
    c = store.claim("me", 4, lease_seconds=60)
    store.record(
        "me",
        [
            (c[0].seq, Sent("2026-01-01T00:00:00+00:00")),
            (c[1].seq, Rejected(400, "BAD_REQUEST", "Bad request", {"properties.x": ["must be a number"]})),
            (c[2].seq, Invalid({"event": ["broken"]})),
        ],
    )
    # A second, different final outcome for the same event changes nothing.
    store.record("me", [(c[0].seq, Rejected(404, "NOT_FOUND", "gone"))])
    counts = store.counts()
    assert (counts.sent, counts.rejected, counts.invalid, counts.pending) == (1, 1, 1, 1)
    [rejected, invalid] = list(store.finished())
    assert (rejected.status, rejected.message_id, rejected.text) == (400, "BAD_REQUEST", "Bad request")
    assert rejected.validation_errors == {"properties.x": ["must be a number"]}
    assert (rejected.event_id, rejected.ref, rejected.properties) == ("e-1", "1", {"n": 1, "text": "é"})
    assert invalid.state == "invalid"
    assert invalid.validation_errors == {"event": ["broken"]}


def test_retry_waits_its_delay_uses_a_round_and_only_the_lease_holder_may_ask(
    store: SQLiteStore, clock: FakeClock
) -> None:
    store.enqueue(events(1))
    [claim] = store.claim("me", 1, lease_seconds=60)
    store.record("intruder", [(claim.seq, Retry(5.0, "ServerError"))])
    assert store.counts().in_flight == 1  # not the intruder's lease: ignored
    store.record("me", [(claim.seq, Retry(5.0, "ServerError: HTTP 500"))])
    assert store.claim("me", 1, lease_seconds=60) == []
    assert store.next_due() == pytest.approx(5.0)
    clock.advance(5)
    [again] = store.claim("me", 1, lease_seconds=60)
    assert again.rounds == 1
    assert store.counts().retrying == 1


def test_a_drainer_whose_lease_ran_out_can_still_record_its_201(store: SQLiteStore, clock: FakeClock) -> None:
    store.enqueue(events(1))
    [slow] = store.claim("slow", 1, lease_seconds=1)
    clock.advance(2)
    [fast] = store.claim("fast", 1, lease_seconds=60)
    store.record("slow", [(slow.seq, Sent("2026-01-01T00:00:00+00:00"))])
    store.record("fast", [(fast.seq, Sent("2026-01-01T00:00:01+00:00"))])
    assert store.counts().sent == 1


def test_next_due_is_none_only_when_nothing_is_pending(store: SQLiteStore, clock: FakeClock) -> None:
    assert store.next_due() is None
    store.enqueue(events(1))
    assert store.next_due() == 0.0
    [claim] = store.claim("me", 1, lease_seconds=30)
    assert store.next_due() == pytest.approx(30.0)
    store.record("me", [(claim.seq, Sent("t"))])
    assert store.next_due() is None


def test_a_transaction_is_all_or_nothing(store: SQLiteStore) -> None:
    def write_then_fail() -> None:
        with store.transaction() as db:
            store.enqueue(events(3), connection=db)
            store.record_invalid([InvalidItem({"row": ["bad"]}, '"raw"', ref="9")], connection=db)
            raise RuntimeError("the front door failed after writing")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert store.counts().total == 0
    store.enqueue(events(3))
    assert store.counts().pending == 3


def test_invalid_items_are_recorded_with_their_original_input(store: SQLiteStore) -> None:
    store.record_invalid([InvalidItem({"identifierType": ["must be one of ..."]}, '{"personId": "x"}', "e", "7")])
    [record] = list(store.finished(("invalid",)))
    assert (record.original, record.event_id, record.ref) == ('{"personId": "x"}', "e", "7")
    assert record.text == "identifierType: must be one of ..."


def test_finished_streams_in_pages_in_enqueue_order(store: SQLiteStore) -> None:
    store.enqueue(events(1200))
    claimed = store.claim("me", 1200, lease_seconds=60)
    store.record("me", [(c.seq, Rejected(404, "NOT_FOUND", "Person not found")) for c in claimed])
    assert [r.seq for r in store.finished()] == list(range(1, 1201))


def _claim_until_empty(
    path: str,
    owner: str,
    start: EventType,
    results: multiprocessing.Queue[tuple[str, list[int]]],
) -> None:
    store = SQLiteStore(path, busy_timeout=60)
    taken: list[int] = []
    start.wait(30)
    while claimed := store.claim(owner, 7, lease_seconds=600):
        taken += [c.seq for c in claimed]
        time.sleep(0.005)  # as a send would: lets the other processes' claims interleave with this one's
        store.record(owner, [(c.seq, Sent("t")) for c in claimed])
    results.put((owner, taken))


@pytest.mark.slow
def test_processes_claiming_one_file_never_claim_an_event_twice(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    store = SQLiteStore(path)
    store.enqueue(events(1500))
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[tuple[str, list[int]]] = context.Queue()
    start = context.Event()
    workers = [context.Process(target=_claim_until_empty, args=(str(path), f"w{n}", start, results)) for n in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    taken = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(10)
    seqs = Counter(seq for _, mine in taken for seq in mine)
    assert set(seqs) == set(range(1, 1501))
    assert max(seqs.values()) == 1
    assert sum(1 for _, mine in taken if mine) >= 2, "more than one process took part"
    assert store.counts().sent == 1500


def _claim_and_hang(path: str, ready: EventType) -> None:
    store = SQLiteStore(path)
    store.claim("doomed", 50, lease_seconds=5)
    ready.set()
    time.sleep(60)


@pytest.mark.slow
def test_a_killed_claimers_events_come_back_when_its_lease_expires(tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite"
    SQLiteStore(path).enqueue(events(80))
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    doomed = context.Process(target=_claim_and_hang, args=(str(path), ready))
    doomed.start()
    assert ready.wait(30)
    assert doomed.pid is not None
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(10)
    now = SQLiteStore(path)
    assert [c.seq for c in now.claim("survivor", 100, lease_seconds=60)] == list(range(51, 81))
    later = SQLiteStore(path, clock=lambda: time.time() + 6)  # past the killed process's 5 s lease
    reclaimed = later.claim("survivor-2", 100, lease_seconds=60)
    assert [c.event.event_id for c in reclaimed] == [f"e-{n}" for n in range(50)]


def test_prune_deletes_only_sent_events_older_than_the_retention(store: SQLiteStore, clock: FakeClock) -> None:
    store.enqueue(events(4))
    [a, b, c, _] = store.claim("me", 4, 60)
    store.record("me", [(a.seq, Sent("t")), (b.seq, Rejected(404, "NOT_FOUND", "no", {}))])
    clock.advance(100)
    store.record("me", [(c.seq, Sent("t"))])
    assert store.prune(older_than=50) == 1  # a: sent 100 s ago; c: just now; b: rejected (kept); d: pending
    counts = store.counts()
    assert (counts.sent, counts.rejected, counts.pending) == (1, 1, 1)


def test_redrive_and_purge_act_on_final_failures_only(store: SQLiteStore) -> None:
    store.enqueue(events(3))
    [a, b, _] = store.claim("me", 3, 60)
    store.record("me", [(a.seq, Rejected(404, "NOT_FOUND", "no", {})), (b.seq, Sent("t"))])
    assert store.redrive(["e-1", "e-2", "unknown"]) == 0  # sent, pending, unknown: nothing to redrive
    assert store.redrive(["e-0"]) == 1
    [again] = store.claim("other", 3, 60)  # c is still leased to "me"
    assert (again.event.event_id, again.rounds) == ("e-0", 0)
    store.record("other", [(again.seq, Rejected(400, "BAD_REQUEST", "bad", {"p": ["x"]}))])
    assert store.purge(["e-0", "e-1"]) == 1
    assert list(store.finished()) == []
    assert store.counts().sent == 1


def test_max_pending_is_checked_inside_the_enqueue_transaction(store: SQLiteStore) -> None:
    store.enqueue(events(3), max_pending=5)
    with pytest.raises(QueueFull, match="holds 3 pending events and its max_pending is 5") as refused:
        store.enqueue(events(3, start=3), max_pending=5)  # all or nothing: 3 + 3 > 5
    assert refused.value.reason == "max_pending"
    assert store.counts().pending == 3
    store.enqueue(events(2, start=3), max_pending=5)
    assert store.counts().pending == 5


def test_a_store_locked_past_its_busy_timeout_raises_store_unavailable(tmp_path: Path) -> None:
    """Another process holds the write lock longer than busy_timeout: enqueue raises StoreUnavailable (a StoreError,
    one line), writes nothing, and works again once the lock is released."""
    store = SQLiteStore(tmp_path / "store.sqlite", busy_timeout=0.2)
    holder = sqlite3.connect(tmp_path / "store.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="database is locked") as refused:
            store.enqueue(events(1))
        assert "\n" not in str(refused.value)
        assert store.counts().pending == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.enqueue(events(1))
    assert store.counts().pending == 1
