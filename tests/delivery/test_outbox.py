"""The outbox on SQLite against the served mock: enqueue checks like send and writes once, a bounded queue, a full
disk (a small tmpfs), a graceful close with sends in flight, rejected events that are visible and redrivable,
retention, fork, asyncio. Every delivery is checked by read-back from the server."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from people_events_client import validate_event
from people_events_client.delivery import RoundPolicy
from people_events_client.outbox import AsyncOutbox, Outbox, OutboxClosed, QueueFull, StoreError, open_store, redact
from people_events_mock.testing import MockProcess
from tests.support.bulk import API_KEY
from tests.support.forking import in_forked_children
from tests.support.full_disk import fill, small_tmpfs
from tests.support.mock_admin import add_person, clear_faults, set_faults, stored_events
from tests.support.outbox_worker import enqueue_good as enqueue_one

FAST = RoundPolicy(max_rounds=3, first_delay=0.05, max_delay=0.2)


def enqueue_good(outbox: Outbox, count: int, tag: str) -> list[str]:
    return [enqueue_one(outbox, number, tag) for number in range(count)]


def stored_ids(base_url: str) -> Counter[str]:
    return Counter(event["eventId"] for event in stored_events(base_url))


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def url(path: Path) -> str:
    return f"sqlite://{path}"


# enqueue


@pytest.mark.parametrize(
    "arguments",
    [
        {"person_id": ""},
        {"person_id": "x" * 257},
        {"definition_id": ".."},
        {"identifier_type": "CARRIER_PIGEON"},
        {"event_id": "has spaces"},
        {"properties": {"total": float("nan")}},
        {"create_person": "yes"},
    ],
    ids=["empty-person", "long-person", "dot-dot-definition", "identifier-type", "event-id", "nan", "create-person"],
)
def test_enqueue_refuses_what_send_refuses_before_writing_anything(tmp_path: Path, arguments: dict[str, Any]) -> None:
    event: dict[str, Any] = {"person_id": "jane.doe@example.com", "definition_id": "addToCart"}
    event |= {"identifier_type": "EMAIL"} | arguments
    try:
        validate_event(event["person_id"], event["definition_id"], **_keywords(event))
    except ValueError as error:
        by_send = str(error)
    else:
        pytest.fail("send accepts it")
    with Outbox(url(tmp_path / "outbox.db")) as outbox:
        with pytest.raises(ValueError, match=f"^{re.escape(by_send)}$"):
            outbox.enqueue(event["person_id"], event["definition_id"], **_keywords(event))
        assert outbox.stats().total == 0


def _keywords(event: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in event.items() if key not in ("person_id", "definition_id")}


def test_enqueue_is_local_returns_the_event_id_and_a_new_process_sees_it(tmp_path: Path) -> None:
    """No base URL at all: enqueueing never needs the network. The write is committed when enqueue returns."""
    path = tmp_path / "outbox.db"
    with Outbox(url(path)) as outbox:
        mine = outbox.enqueue("jane.doe@example.com", "addToCart", identifier_type="EMAIL", event_id="order-1")
        generated = outbox.enqueue("crm-1001", "addToCart", identifier_type="EXTERNAL_ID")
    assert mine == "order-1"
    assert len(generated) == 36
    seen = subprocess.run(
        [sys.executable, "-c", f"from people_events_client.outbox import Outbox; print(Outbox({url(path)!r}).stats())"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "pending=2" in seen.stdout


def test_store_urls_and_redaction(tmp_path: Path) -> None:
    assert open_store(f"sqlite://{tmp_path}/a.db").migrate() >= 1
    with contextlib.chdir(tmp_path):
        open_store("sqlite:relative.db").close()
    assert (tmp_path / "relative.db").exists()
    for bad in ("mysql://h/db", "sqlite://host/a.db", "/just/a/path.db", "sqlite:"):
        with pytest.raises(ValueError, match="store URL"):
            Outbox(bad)
    assert redact("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert "s3cret" not in redact("postgresql://db/x?sslmode=require&password=s3cret")
    with (
        pytest.raises(ValueError, match="connection= is for a PostgreSQL outbox"),
        Outbox(url(tmp_path / "b.db")) as box,
    ):
        box.enqueue("crm-1001", "addToCart", identifier_type="EXTERNAL_ID", connection=object())  # type: ignore[arg-type]


def test_an_sqlite_file_of_another_application_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("CREATE TABLE orders (id INTEGER)")
    db.close()
    with pytest.raises(StoreError, match="not a People Events store"):
        Outbox(url(path))


# A bounded queue, a full disk


def test_a_full_queue_raises_and_loses_nothing(mock: MockProcess, tmp_path: Path) -> None:
    outbox = Outbox(url(tmp_path / "outbox.db"), base_url=mock.base_url, api_key=API_KEY, max_pending=40)
    accepted = enqueue_good(outbox, 40, "bounded")
    with pytest.raises(QueueFull, match="max_pending is 40") as refused:
        enqueue_good(outbox, 1, "over")
    assert refused.value.reason == "max_pending"
    assert outbox.stats().pending == 40
    outbox.start()
    assert outbox.flush(timeout=60)
    accepted += enqueue_good(outbox, 5, "after")  # room again once drained
    assert outbox.flush(timeout=60)
    outbox.close()
    assert stored_ids(mock.base_url) == Counter(accepted)


def test_a_full_disk_raises_and_loses_nothing(mock: MockProcess) -> None:
    """SQLite on a 2 MiB tmpfs with 1 MiB of ballast: enqueue until the disk is full. Each refusal is QueueFull
    with nothing written; once the ballast goes, every event enqueued before is delivered exactly once."""
    with small_tmpfs(2048) as disk:
        ballast = disk / "ballast"
        ballast.write_bytes(b"\0" * 1024 * 1024)
        outbox = Outbox(url(disk / "outbox.db"), base_url=mock.base_url, api_key=API_KEY)
        filled = fill(outbox)
        accepted, refused = filled.accepted, filled.refusal
        assert refused is not None
        assert refused.reason == "disk"
        assert "is full: nothing was enqueued" in str(refused)
        assert len(accepted) > 20
        with pytest.raises(QueueFull, match="is full"):  # still full: still refused, still nothing written
            outbox.enqueue("crm-1001", "addToCart", identifier_type="EXTERNAL_ID", properties={"x": "p" * 1000})
        assert outbox.stats().pending == len(accepted)
        ballast.unlink()
        outbox.start()
        assert outbox.flush(timeout=60)
        outbox.close()
    assert stored_ids(mock.base_url) == Counter(accepted)


# Close, rejected events, retention


@pytest.mark.parametrize("grace", [10.0, 0.05], ids=["in-flight-sends-finish", "in-flight-sends-cancelled"])
def test_close_with_sends_in_flight_leaves_nothing_half_recorded(
    mock: MockProcess, tmp_path: Path, grace: float
) -> None:
    """Every request takes 400 ms. close() stops claiming; sends in flight finish (or, past the grace, are
    cancelled). Then no lease is left, what is marked sent is stored, and the next drainer sends only the rest."""
    path = tmp_path / "outbox.db"
    set_faults(mock.base_url, {"delay=400": 1.0})
    outbox = Outbox(url(path), base_url=mock.base_url, api_key=API_KEY, concurrency=16)
    expected = enqueue_good(outbox, 120, "close")
    outbox.start()
    wait_for(lambda: outbox.stats().sent >= 16, 30, "the first sends")
    assert outbox.stats().in_flight > 0
    outbox.close(timeout=grace)
    with pytest.raises(OutboxClosed):
        enqueue_good(outbox, 1, "late")
    with Outbox(url(path)) as after:
        counts = after.stats()
        assert counts.in_flight == 0
        assert counts.sent + counts.pending == 120
        assert counts.pending > 0
    marked_sent = {record.event_id for record in open_store(url(path)).finished(("sent",))}
    assert marked_sent <= set(stored_ids(mock.base_url))
    clear_faults(mock.base_url)
    with Outbox(url(path), base_url=mock.base_url, api_key=API_KEY) as final:
        final.start()
        assert final.flush(timeout=60)
    assert stored_ids(mock.base_url) == Counter(expected)


def test_rejected_events_are_visible_redrivable_and_never_retried_forever(mock: MockProcess, tmp_path: Path) -> None:
    outbox = Outbox(url(tmp_path / "outbox.db"), base_url=mock.base_url, api_key=API_KEY, rounds=FAST, max_retries=0)
    outbox.start()
    outbox.enqueue("new-customer-1", "addToCart", identifier_type="EXTERNAL_ID", event_id="unknown-person")
    outbox.enqueue(
        "crm-1001", "addToCart", identifier_type="EXTERNAL_ID", properties={"totalCost": "a lot"}, event_id="bad-type"
    )
    assert outbox.flush(timeout=60)
    set_faults(mock.base_url, {"500": 1.0})  # persistent: the 3rd round ends it
    outbox.enqueue("crm-1001", "addToCart", identifier_type="EXTERNAL_ID", event_id="always-500")
    assert outbox.flush(timeout=60)
    rejected = {str(record.event_id): record for record in outbox.rejected()}
    assert sorted(rejected) == ["always-500", "bad-type", "unknown-person"]
    assert (rejected["unknown-person"].status, rejected["unknown-person"].message_id) == (404, "NOT_FOUND")
    assert "properties.totalCost" in rejected["bad-type"].validation_errors
    assert rejected["always-500"].status == 500
    assert (rejected["always-500"].text or "").endswith("still failing after 3 rounds")
    assert outbox.stats().pending == 0
    assert stored_ids(mock.base_url) == Counter()

    clear_faults(mock.base_url)
    add_person(mock.base_url, account="A", identifier_type="EXTERNAL_ID", person_id="new-customer-1")
    assert outbox.redrive(["unknown-person", "always-500", "not-an-event"]) == 2
    assert outbox.flush(timeout=60)
    assert outbox.purge(["bad-type"]) == 1
    counts = outbox.stats()
    assert (counts.rejected, counts.pending, counts.sent) == (0, 0, 2)
    outbox.close()
    assert stored_ids(mock.base_url) == Counter(["unknown-person", "always-500"])


def test_sent_events_are_pruned_after_the_retention_and_rejected_ones_kept(mock: MockProcess, tmp_path: Path) -> None:
    with Outbox(url(tmp_path / "outbox.db"), base_url=mock.base_url, api_key=API_KEY, retention=0.3) as outbox:
        enqueue_good(outbox, 10, "kept-briefly")
        outbox.enqueue("nobody-here", "addToCart", identifier_type="EXTERNAL_ID", event_id="rejected-1")
        outbox.start()
        assert outbox.flush(timeout=60)
        assert outbox.prune() == 0 or outbox.stats().sent < 10  # maybe none old enough yet
        time.sleep(0.4)
        outbox.prune()
        counts = outbox.stats()
        assert (counts.sent, counts.rejected) == (0, 1)
        assert [record.event_id for record in outbox.rejected()] == ["rejected-1"]


# Processes, fork, asyncio


def test_a_forked_child_enqueues_through_a_store_of_its_own(mock: MockProcess, tmp_path: Path) -> None:
    """Built before the fork (gunicorn --preload): each child opens its own connection on first use."""
    path = tmp_path / "outbox.db"
    outbox = Outbox(url(path), base_url=mock.base_url, api_key=API_KEY)
    enqueue_good(outbox, 5, "parent")

    def child(index: int) -> int:
        enqueue_good(outbox, 20, f"child{index}")
        return outbox.stats().pending

    results = in_forked_children(child, 3, timeout=60)
    assert all(isinstance(result, int) for result in results), results
    assert outbox.stats().pending == 65
    outbox.start()
    assert outbox.flush(timeout=60)
    outbox.close()
    assert sorted(stored_ids(mock.base_url)) == sorted(
        [f"parent-{n}" for n in range(5)] + [f"child{c}-{n}" for c in range(3) for n in range(20)]
    )


async def test_async_outbox_drains_in_a_task_of_the_running_loop(mock: MockProcess, tmp_path: Path) -> None:
    async with AsyncOutbox(url(tmp_path / "outbox.db"), base_url=mock.base_url, api_key=API_KEY) as outbox:
        outbox.start()
        ids = await asyncio.gather(
            *(
                outbox.enqueue(
                    "jane.doe@example.com",
                    "addToCart",
                    identifier_type="EMAIL",
                    properties={"transactionId": f"async-{n}"},
                )
                for n in range(60)
            )
        )
        assert await outbox.flush(timeout=60)
        assert outbox.stats().sent == 60
    assert stored_ids(mock.base_url) == Counter(ids)
