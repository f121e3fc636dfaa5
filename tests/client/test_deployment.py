"""The deployment matrix: the client as teams run it (pre-fork servers, one credential per tenant, a hung Redis,
several event loops, user hooks), over real processes, sockets and the served reference mock. Every case is bounded
to seconds; stored events are checked by reading them back from the mock."""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import gc
import logging
import multiprocessing
import os
import pickle
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from people_events_client import (
    AsyncPeopleEvents,
    ClientClosed,
    DeadlineExceeded,
    PeopleEvents,
    PeopleEventsError,
    UnexpectedResponse,
    redis_limiter,
)
from people_events_client._pacing import budgets_in_use
from people_events_mock.testing import MockProcess, mock_process
from tests.support.forking import describe_error, in_forked_children
from tests.support.mock_admin import clear_faults, reset, set_fault, stored_events
from tests.support.redis_server import RedisServer
from tests.support.servers import (
    closed_port,
    json_body,
    scripted_http_server,
    silent_server,
    slow_reading_server,
    trickling_server,
)

KEY = "mock-api-key"


@pytest.fixture(scope="module")
def served() -> Iterator[MockProcess]:
    with mock_process() as mock:
        yield mock


@pytest.fixture
def mock(served: MockProcess) -> MockProcess:
    """The served mock, reset to its fixtures (no events, no faults)."""
    reset(served.base_url)
    return served


def _counts(base_url: str) -> Counter[str]:
    return Counter(event["eventId"] for event in stored_events(base_url, account="A"))


def test_children_forked_after_use_send_their_own_events_exactly_once(mock: MockProcess) -> None:
    """A facade used (a pooled connection open) before fork, then shared by 4 children x 25 sends: each child gets
    its own connections, every event comes back with its own eventId and is stored once; the parent's pool is
    untouched."""
    people = PeopleEvents(mock.base_url, KEY)
    people.send("1001", "addToCart", identifier_type="ID", event_id="parent-before")

    def child(index: int) -> list[list[str]]:
        sent = []
        for n in range(25):
            event = people.send("1001", "addToCart", identifier_type="ID", event_id=f"child{index}-{n}")
            sent.append([f"child{index}-{n}", event.event_id])
        return sent

    results = in_forked_children(child, 4, timeout=60)
    people.send("1001", "addToCart", identifier_type="ID", event_id="parent-after")
    people.close()
    assert all(isinstance(result, list) for result in results), results
    pairs = [pair for result in results for pair in result]
    assert len(pairs) == 100
    assert all(sent == returned for sent, returned in pairs)
    counts = _counts(mock.base_url)
    assert set(counts) == {sent for sent, _ in pairs} | {"parent-before", "parent-after"}
    assert set(counts.values()) == {1}


def test_a_child_forked_while_another_thread_paces_sends_within_its_deadline(mock: MockProcess) -> None:
    """The parent's pacing thread holds the budget's gate while it sleeps for the next permit (2/s); a child forked
    then must not inherit that held gate: its fresh facade and the inherited one both send within their deadline."""
    people = PeopleEvents(mock.base_url, KEY, rate_limit=2, rate_limit_key="fork-while-pacing", deadline=3)
    stop = threading.Event()

    def pace() -> None:
        while not stop.is_set():
            people.send("1001", "addToCart", identifier_type="ID")

    pacer = threading.Thread(target=pace)
    pacer.start()
    time.sleep(0.8)  # the thread is now waiting for a permit, holding the gate

    def child(_: int) -> list[float]:
        fresh = PeopleEvents(mock.base_url, KEY, rate_limit=2, rate_limit_key="fork-while-pacing", deadline=2)
        elapsed = []
        for facade, event_id in ((fresh, "child-fresh"), (people, "child-inherited")):
            started = time.monotonic()
            facade.send("1001", "addToCart", identifier_type="ID", event_id=event_id)
            elapsed.append(time.monotonic() - started)
        return elapsed

    try:
        (result,) = in_forked_children(child, 1, timeout=20)
    finally:
        stop.set()
        pacer.join(10)
    assert isinstance(result, list), result
    assert all(seconds < 2.5 for seconds in result), result
    counts = _counts(mock.base_url)
    assert counts["child-fresh"] == counts["child-inherited"] == 1


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.slow
def test_ten_thousand_credentials_keep_threads_and_file_descriptors_bounded(mock: MockProcess) -> None:
    """One facade per tenant, created, used (the mock answers 401 to these unknown keys) and closed, 10,000 times:
    no thread, file descriptor or pacing budget is left behind."""
    gc.collect()  # an earlier test's unclosed facade frees its budget when collected: not during this test
    threads, fds, budgets = threading.active_count(), _open_fds(), budgets_in_use()

    def tenants(first: int) -> int:
        refused = 0
        for n in range(first, 10_000, 4):
            people = PeopleEvents(mock.base_url, f"tenant-key-{n}", max_retries=0)
            try:
                people.send("1001", "addToCart", identifier_type="ID")
            except PeopleEventsError as err:
                refused += err.status == 401
            finally:
                people.close()
        return refused

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        refused = sum(pool.map(tenants, range(4)))
    assert refused == 10_000
    assert threading.active_count() <= threads + 1
    assert _open_fds() <= fds + 5
    assert budgets_in_use() == budgets


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_201_for_another_event_raises_and_says_the_event_may_be_stored(kind: str) -> None:
    def answer(method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        event = {"eventId": "someone-elses-event", "definitionId": "addToCart", "occurredTime": "2026-11-30T10:00:00Z"}
        return 201, {"content-type": "application/json"}, json_body(event)

    def send(url: str) -> object:
        if kind == "sync":
            return PeopleEvents(url, KEY).send("1001", "addToCart", identifier_type="ID", event_id="mine")
        return asyncio.run(AsyncPeopleEvents(url, KEY).send("1001", "addToCart", identifier_type="ID", event_id="mine"))

    with scripted_http_server(answer) as url, pytest.raises(UnexpectedResponse) as caught:
        send(url)
    assert (caught.value.event_id, caught.value.status, caught.value.may_be_stored) == ("mine", 201, True)


def _errors_from_the_served_mock(base_url: str) -> list[PeopleEventsError]:
    errors: list[PeopleEventsError] = []

    def collect(facade: PeopleEvents, person: str = "1001", **options: Any) -> None:
        try:
            facade.send(person, "addToCart", identifier_type="ID", **options)
        except PeopleEventsError as err:
            errors.append(err)

    people = PeopleEvents(base_url, KEY, max_retries=0)
    collect(PeopleEvents(base_url, "wrong-key"))  # 401
    collect(PeopleEvents(base_url, "mock-readonly-key"))  # 403
    collect(people, person="nobody")  # 404
    collect(people, properties={"totalCost": "not a number"})  # 400
    for fault, count in (("500", 1), ("empty-429", 1), ("reset", 1)):
        set_fault(base_url, fault, next=count)
        collect(people)  # ServerError, RateLimited, TransportError
    clear_faults(base_url)
    with scripted_http_server(lambda *_: (201, {}, b"<html>")) as url:
        collect(PeopleEvents(url, KEY))  # UnexpectedResponse
    people.close()
    collect(people)  # ClientClosed
    spent = PeopleEvents(base_url, KEY, deadline=0.2, rate_limit=1, rate_limit_key="spent")
    collect(spent)
    collect(spent)  # DeadlineExceeded: the next permit is a second away
    spent.close()
    return errors


def test_errors_cross_a_process_boundary_without_the_credential(mock: MockProcess) -> None:
    errors = _errors_from_the_served_mock(mock.base_url)
    kinds = {type(error).__name__ for error in errors}
    assert kinds >= {
        "Unauthorized", "Forbidden", "NotFound", "BadRequest", "ServerError", "RateLimited", "TransportError",
        "UnexpectedResponse", "ClientClosed", "DeadlineExceeded",
    }  # fmt: skip
    for error in errors:
        assert KEY.encode() not in pickle.dumps(error)
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        received = list(pool.map(describe_error, errors))
    for error, seen in zip(errors, received, strict=True):
        assert seen == {**describe_error(error), "response": None}


def test_one_async_facade_serves_several_event_loops(mock: MockProcess) -> None:
    people = AsyncPeopleEvents(mock.base_url, KEY)

    async def send(event_id: str) -> str:
        return (await people.send("1001", "addToCart", identifier_type="ID", event_id=event_id)).event_id

    assert asyncio.run(send("first-loop")) == "first-loop"
    assert asyncio.run(send("second-loop")) == "second-loop"
    asyncio.run(people.aclose())
    with pytest.raises(ClientClosed):
        asyncio.run(send("after-close"))
    counts = _counts(mock.base_url)
    assert counts == Counter({"first-loop": 1, "second-loop": 1})


class HookError(Exception):
    """A bug in the user's own hook."""


def test_a_request_hook_that_raises_reaches_the_caller_unchanged_and_nothing_is_sent(mock: MockProcess) -> None:
    def hook(request: httpx.Request) -> None:
        raise HookError("tracing backend is down")

    people = PeopleEvents(mock.base_url, KEY, http_client_args={"event_hooks": {"request": [hook]}})
    with pytest.raises(HookError, match="tracing backend is down"):
        people.send("1001", "addToCart", identifier_type="ID", event_id="hooked")
    assert _counts(mock.base_url)["hooked"] == 0


@pytest.mark.redis
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_hung_redis_costs_each_send_at_most_its_deadline_through_the_fallback(
    mock: MockProcess, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    """Redis accepts connections and never answers. 8 concurrent senders with a 2.5 s deadline: the first failure
    opens the circuit, every send completes through in-process pacing within deadline + 0.5 s, and it warns once."""
    elapsed: list[float] = []
    with silent_server() as (host, port), caplog.at_level(logging.WARNING, logger="people_events_client"):
        limiter = redis_limiter(f"redis://{host}:{port}/0", rate_limit=250, timeout=1.0)
        if kind == "sync":

            def sender(index: int) -> None:
                people = PeopleEvents(mock.base_url, KEY, limiter=limiter, deadline=2.5)
                for n in range(3):
                    started = time.monotonic()
                    people.send("1001", "addToCart", identifier_type="ID", event_id=f"hung-{index}-{n}")
                    elapsed.append(time.monotonic() - started)

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(sender, range(8)))
        else:

            async def senders() -> None:
                people = AsyncPeopleEvents(mock.base_url, KEY, limiter=limiter, deadline=2.5)

                async def send(event_id: str) -> None:
                    started = time.monotonic()
                    await people.send("1001", "addToCart", identifier_type="ID", event_id=event_id)
                    elapsed.append(time.monotonic() - started)

                for n in range(3):
                    await asyncio.gather(*(send(f"hung-{i}-{n}") for i in range(8)))

            asyncio.run(senders())
    assert len(elapsed) == 24
    assert max(elapsed) <= 3.0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Redis" in warnings[0]
    counts = _counts(mock.base_url)
    assert len(counts) == 24
    assert set(counts.values()) == {1}


@pytest.mark.redis
def test_paced_async_tasks_leave_the_event_loops_executor_free(mock: MockProcess, redis_server: RedisServer) -> None:
    """40 tasks wait for a fleet budget of 2/s; meanwhile an unpaced facade, whose host name is resolved in the
    loop's default executor, sends without delay, and no thread is held per waiting task."""
    threads = threading.active_count()
    port = mock.base_url.rsplit(":", 1)[1]

    async def scenario() -> tuple[list[float], int]:
        paced = AsyncPeopleEvents(mock.base_url, KEY, limiter=redis_limiter(redis_server.url, rate_limit=2))
        unpaced = AsyncPeopleEvents(f"http://localhost:{port}", KEY, rate_limit=None)
        waiting = [asyncio.create_task(paced.send("1001", "addToCart", identifier_type="ID")) for _ in range(40)]
        await asyncio.sleep(0.3)
        durations = []
        for n in range(5):
            started = time.monotonic()
            await unpaced.send("1001", "addToCart", identifier_type="ID", event_id=f"unpaced-{n}")
            durations.append(time.monotonic() - started)
        busy_threads = threading.active_count()
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        return durations, busy_threads

    durations, busy_threads = asyncio.run(scenario())
    assert max(durations) < 1.0
    assert busy_threads <= threads + 4  # the pacing loop's thread, and the executor's resolver threads
    counts = _counts(mock.base_url)
    assert all(counts[f"unpaced-{n}"] == 1 for n in range(5))


@pytest.mark.parametrize("how", ["option", "mounts"])
def test_http2_debug_logs_never_carry_a_decodable_credential(caplog: pytest.LogCaptureFixture, how: str) -> None:
    """hpack logs every encoded header block at DEBUG; a block decodes back to the Authorization header. Plain httpx
    logs it (the control); the facade's client does not, whether HTTP/2 comes from its option or a mount."""
    hpack = pytest.importorskip("hpack")
    secret = "h2-secret-key-42"

    def decodable_secrets() -> list[str]:
        found = []
        for record in caplog.records:
            if record.getMessage().startswith("Encoded header block to b"):
                block = ast.literal_eval(record.getMessage().removeprefix("Encoded header block to "))
                headers = hpack.Decoder().decode(block, raw=False)
                found += [value for name, value in headers if secret in value]
        return found

    h2_only: dict[str, Any] = {"http1": False, "http2": True}
    with silent_server() as (host, port), caplog.at_level(logging.DEBUG):
        url = f"http://{host}:{port}"
        from people_events_client._logging import _HPACK_LOGGERS

        filters = {name: logging.getLogger(name).filters[:] for name in _HPACK_LOGGERS}
        for name in _HPACK_LOGGERS:  # the control runs as plain httpx does, without the facade's filter
            logging.getLogger(name).filters.clear()
        try:
            with pytest.raises(httpx.TimeoutException), httpx.Client(**h2_only, timeout=0.3) as plain:
                plain.post(f"{url}/x", headers={"Authorization": f"App {secret}"})
        finally:
            for name, kept in filters.items():
                logging.getLogger(name).filters[:] = kept
        assert decodable_secrets(), "control: plain httpx with http2 logs a decodable Authorization header"
        caplog.clear()
        args = h2_only if how == "option" else {"mounts": {"http://": httpx.HTTPTransport(**h2_only)}}
        people = PeopleEvents(url, secret, deadline=0.3, max_retries=0, http_client_args=args)
        with pytest.raises(DeadlineExceeded):
            people.send("1001", "addToCart", identifier_type="ID")
    assert not decodable_secrets()
    assert not [r for r in caplog.records if secret in r.getMessage()]


TRICKLED_BODY = json_body({"eventId": "slow", "definitionId": "addToCart", "occurredTime": "2026-11-30T10:00:00Z"})
TRICKLED_HEAD = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(
    TRICKLED_BODY
)


@pytest.mark.parametrize("trickle_head", [False, True], ids=["body", "head"])
def test_an_async_send_to_a_trickling_server_ends_at_its_deadline(trickle_head: bool) -> None:
    """A server that sends one byte every 0.1 s (about 10 s for the whole answer): the async send ends at its 1 s
    deadline, and says the event may be stored."""
    with trickling_server(head=TRICKLED_HEAD, body=TRICKLED_BODY, interval=0.1, trickle_head=trickle_head) as url:
        people = AsyncPeopleEvents(url, KEY, deadline=1.0)
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as caught:
            asyncio.run(people.send("1001", "addToCart", identifier_type="ID", event_id="slow"))
    assert time.monotonic() - started < 1.5
    assert caught.value.may_be_stored is True


@pytest.mark.parametrize("trickle_head", [False, True], ids=["body", "head"])
def test_a_sync_send_to_a_trickling_server_ends_at_its_deadline(trickle_head: bool) -> None:
    """The same server against the sync facade, whose sockets take at most the time left before the deadline: the
    send ends at its 1 s deadline whether the head or the body trickles (each byte comes well within the 5 s read
    timeout, so per-read timeouts alone would let it run for about 10 s)."""
    with trickling_server(head=TRICKLED_HEAD, body=TRICKLED_BODY, interval=0.1, trickle_head=trickle_head) as url:
        people = PeopleEvents(url, KEY, deadline=1.0, timeout=5.0)
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded) as caught:
            people.send("1001", "addToCart", identifier_type="ID", event_id="slow")
    assert time.monotonic() - started < 1.5
    assert caught.value.may_be_stored is True


def test_a_sync_send_ends_at_its_deadline_when_the_server_reads_the_request_slowly() -> None:
    """A 400 KB event to a server that reads 4 KB every 50 ms (about 5 s for the request), with a small send buffer:
    the writes take at most the time left, so the send ends near its 0.5 s deadline."""
    small_send_buffer = [(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)]
    with slow_reading_server(chunk=4096, interval=0.05) as url:
        people = PeopleEvents(url, KEY, deadline=0.5, http_client_args={"socket_options": small_send_buffer})
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            people.send("1001", "addToCart", identifier_type="ID", properties={"blob": "x" * 400_000})
    assert time.monotonic() - started < 1.5


def test_connect_retries_never_wait_past_the_deadline() -> None:
    """httpcore's own connect retries (``retries=4``: waits of 0.5, 1 and 2 s) against a refused port: the send
    ends within its 0.3 s deadline and knows that nothing was sent."""
    people = PeopleEvents(
        f"http://127.0.0.1:{closed_port()}", KEY, deadline=0.3, max_retries=0, http_client_args={"retries": 4}
    )
    started = time.monotonic()
    with pytest.raises(PeopleEventsError) as caught:
        people.send("1001", "addToCart", identifier_type="ID")
    assert time.monotonic() - started < 0.6
    assert caught.value.may_be_stored is False
    assert caught.value.status is None


def test_a_trickled_4xx_body_cut_at_the_deadline_says_nothing_was_stored() -> None:
    """A 400 whose body trickles past the deadline: the send ends at it, and the status (a 4xx stores nothing), not
    the cut read, decides ``may_be_stored``."""
    head = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(
        TRICKLED_BODY
    )
    with trickling_server(head=head, body=TRICKLED_BODY, interval=0.1, trickle_head=False) as url:
        people = PeopleEvents(url, KEY, deadline=0.5, timeout=5.0)
        with pytest.raises(DeadlineExceeded) as caught:
            people.send("1001", "addToCart", identifier_type="ID", event_id="slow")
    assert caught.value.may_be_stored is False


def test_a_sync_send_through_a_proxy_mount_is_bounded_by_its_deadline() -> None:
    """The deadline also holds on the pools httpx builds for proxies: a trickled head behind an HTTP proxy setting
    (the trickling server stands in for the proxy, which receives the absolute-form request)."""
    with trickling_server(head=TRICKLED_HEAD, body=TRICKLED_BODY, interval=0.1, trickle_head=True) as proxy:
        people = PeopleEvents(
            "http://events.invalid",
            KEY,
            deadline=1.0,
            timeout=5.0,
            allow_insecure_http=True,
            http_client_args={"proxy": proxy},
        )
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            people.send("1001", "addToCart", identifier_type="ID", event_id="slow")
    assert time.monotonic() - started < 1.5


def test_the_low_level_client_keeps_plain_httpx_timeouts() -> None:
    """Outside a facade's send the sockets are not bounded by any deadline: the generated low-level client, which
    shares the pool, reads a slowly trickled answer to its end (per-read timeouts only, as in plain httpx)."""
    with trickling_server(head=TRICKLED_HEAD, body=TRICKLED_BODY, interval=0.005, trickle_head=True) as url:
        people = PeopleEvents(url, KEY, deadline=0.2, timeout=5.0)
        started = time.monotonic()
        response = people.client.get_httpx_client().post("/peopleevents/2/persons/1001/definitions/addToCart/events")
    assert response.status_code == 201
    assert response.json()["eventId"] == "slow"
    assert time.monotonic() - started > 0.4


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_closing_a_facade_lets_sends_in_flight_finish_and_refuses_new_ones(mock: MockProcess, kind: str) -> None:
    """close() while a send waits on a 500 ms server delay, and another waits between retries: both finish and are
    stored; a send after close() raises ClientClosed; the pool closes when the last send ends."""
    set_fault(mock.base_url, "delay=500", next=1)

    if kind == "sync":
        people = PeopleEvents(mock.base_url, KEY)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            sending = pool.submit(people.send, "1001", "addToCart", identifier_type="ID", event_id="in-flight")
            time.sleep(0.2)
            people.close()
            assert sending.result(timeout=10).event_id == "in-flight"
        with pytest.raises(ClientClosed):
            people.send("1001", "addToCart", identifier_type="ID", event_id="after-close")
        assert people.client.get_httpx_client().is_closed
    else:

        async def scenario() -> None:
            people = AsyncPeopleEvents(mock.base_url, KEY)
            sending = asyncio.create_task(people.send("1001", "addToCart", identifier_type="ID", event_id="in-flight"))
            await asyncio.sleep(0.2)
            await people.aclose()
            assert (await sending).event_id == "in-flight"
            with pytest.raises(ClientClosed):
                await people.send("1001", "addToCart", identifier_type="ID", event_id="after-close")

        asyncio.run(scenario())
    assert _counts(mock.base_url) == Counter({"in-flight": 1})


def test_an_async_facade_used_across_many_event_loops_keeps_no_socket_of_ended_loops(mock: MockProcess) -> None:
    """The Celery and CLI pattern: asyncio.run() per job on one AsyncPeopleEvents. Pools of ended loops go."""
    people = AsyncPeopleEvents(mock.base_url, KEY)

    async def job(n: int) -> None:
        await people.send("1001", "addToCart", identifier_type="ID", event_id=f"job-{n}")

    asyncio.run(job(0))
    gc.collect()
    fds = _open_fds()
    for n in range(1, 60):
        asyncio.run(job(n))
    gc.collect()
    assert _open_fds() <= fds + 3
    assert len(_counts(mock.base_url)) == 60


def test_a_forked_child_closes_an_inherited_facade_while_the_parent_churns_facades(mock: MockProcess) -> None:
    """A parent thread creates and closes facades without pause (taking the pacing registry's lock) while 20
    children fork; each child closes the facade it inherited and exits. None may hang on a lock held at the fork."""
    shared = PeopleEvents(mock.base_url, KEY)
    stop = threading.Event()

    def churn() -> None:
        n = 0
        while not stop.is_set():
            PeopleEvents(mock.base_url, f"churn-{n % 50}").close()
            n += 1

    churner = threading.Thread(target=churn)
    churner.start()
    try:

        def child(_: int) -> str:
            shared.close()
            return "closed"

        results = in_forked_children(child, 20, timeout=20)
    finally:
        stop.set()
        churner.join(10)
    assert results == ["closed"] * 20


@pytest.mark.parametrize("option", ["transport", "mounts"])
def test_a_facade_with_the_callers_transport_refuses_to_send_in_a_forked_child(mock: MockProcess, option: str) -> None:
    """Its connections belong to the parent: sharing them would cross events between processes."""
    transport = httpx.HTTPTransport()
    args: dict[str, Any] = {"transport": transport} if option == "transport" else {"mounts": {"http://": transport}}
    people = PeopleEvents(mock.base_url, KEY, http_client_args=args)
    people.send("1001", "addToCart", identifier_type="ID", event_id="parent")

    def child(_: int) -> str:
        try:
            people.send("1001", "addToCart", identifier_type="ID", event_id="child")
        except ClientClosed as err:
            return f"ClientClosed {err.event_id}"
        return "sent"

    assert in_forked_children(child, 1) == ["ClientClosed child"]
    assert _counts(mock.base_url) == Counter({"parent": 1})
