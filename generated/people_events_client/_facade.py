# copied from codegen/overlay/_facade.py by `make regenerate`; edit there, never here.
"""``PeopleEvents`` and ``AsyncPeopleEvents``: the production-safe way to send an event."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ssl
import threading
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, ClassVar, Self

import attrs
import httpx

from . import _fork, _logging  # noqa: F401  (_logging drops hpack's header-block debug lines from import on)
from ._constants import DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RETRIES, DEFAULT_RATE_LIMIT, DEFAULT_READ_TIMEOUT
from ._deadline_io import bound_by_deadlines
from ._fleet import FleetLimiter
from ._http_options import HttpOptions, is_async_transport, is_sync_transport, split_http_client_args
from ._pacing import Pacer
from ._retry import RetryPolicy
from ._safety import (
    check_base_url,
    check_count,
    check_credential,
    check_event_id,
    check_flag,
    check_identifier_type,
    check_ids,
    check_properties,
    check_seconds,
    check_timeout,
    encode_body,
)
from ._sending import SendState, run, run_async
from .api.events import send_custom_event
from .auth import Auth
from .client import AuthenticatedClient
from .exceptions import ClientClosed
from .models import EventProperties, EventRequest, EventResponse, IdentifierType
from .types import UNSET

DEFAULT_TIMEOUT = httpx.Timeout(DEFAULT_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)


def new_event_id() -> str:
    """A fresh eventId (UUID4, 36 characters): the server records one eventId only once."""
    return str(uuid.uuid4())


@attrs.frozen
class _Prepared:
    """A validated event, as the generated ``_get_kwargs`` would send it."""

    event_id: str
    method: str
    path: str
    """The path and query, percent-encoded as the generated client encodes them."""
    headers: dict[str, str]
    content: bytes

    def build(self, http: httpx.Client | httpx.AsyncClient, origin: str) -> httpx.Request:
        # An absolute URL: httpx then parses it once, instead of merging a relative one into the base URL and
        # encoding the parameters (about a fifth of a bare httpx send's CPU).
        return http.build_request(self.method, origin + self.path, headers=self.headers, content=self.content)


def _prepare(
    person_id: object,
    definition_id: object,
    identifier_type: object,
    properties: object,
    event_id: object,
    create_person: object,
) -> _Prepared:
    person_id, definition_id = check_ids(person_id, definition_id)
    identifier = check_identifier_type(identifier_type)
    create = check_flag("create_person", create_person)
    event_id = new_event_id() if event_id is None else check_event_id(event_id)
    body = EventRequest(
        event_id=event_id,
        properties=UNSET if properties is None else EventProperties.from_dict(check_properties(properties)),
    )
    kwargs = send_custom_event._get_kwargs(
        person_id, definition_id, body=body, identifier_type=identifier, create_person=create
    )
    path = f"{kwargs['url']}?{httpx.QueryParams(kwargs['params'])}"
    # One encoding both checks the body and produces the bytes sent; the generated Content-Type stays.
    return _Prepared(event_id, kwargs["method"], path, kwargs["headers"], encode_body(kwargs["json"]))


def validate_event(
    person_id: str,
    definition_id: str,
    *,
    identifier_type: IdentifierType | str,
    properties: Mapping[str, Any] | None = None,
    event_id: str | None = None,
    create_person: bool = False,
) -> None:
    """Raise ``ValueError`` exactly where ``send`` would before any I/O: ids (empty, ``.``, ``..``, too long), the
    identifier type, the eventId pattern, ``create_person``, and properties that are not strict JSON. For checking
    events ahead of time (a dry run, an outbox)."""
    _prepare(person_id, definition_id, identifier_type, properties, event_id, create_person)


def _auth_header(api_key: str | None, auth: Auth | None) -> str:
    if (api_key is None) == (auth is None):
        raise ValueError("give exactly one of api_key or auth")
    if api_key is not None:
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("api_key must be a non-empty string")
        return check_credential(f"App {api_key}")
    assert auth is not None
    return check_credential(auth.header_value())


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once per process and shared by every facade: loading the CA bundle
    costs milliseconds and memory per client, which thousands of per-tenant facades would multiply."""
    return httpx.create_ssl_context()


class _Secret(str):
    """A credential header value whose repr hides it: tracebacks that show locals print reprs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'<credential>'"


class _Base:
    """Configuration and lifecycle shared by the sync and async facades; nothing here does I/O."""

    # Class-level defaults, so that repr() and close() work on a facade whose __init__ raised.
    base_url: str | None = None
    rate_limit: int | None = None
    _closed = False
    _pacer: Pacer | None = None
    _finalizer: weakref.finalize[Any, Any] | None = None
    _transport_class: ClassVar[Callable[..., Any]]

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        auth: Auth | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float | None = None,
        rate_limit: int | None = DEFAULT_RATE_LIMIT,
        rate_limit_key: str | None = None,
        limiter: FleetLimiter | None = None,
        allow_insecure_http: bool = False,
        http_client_args: Mapping[str, Any] | None = None,
        _sleep: Callable[[float], Any] | None = None,
        _clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``_sleep`` and ``_clock`` are test seams: inject them to run retries without waiting."""
        # Every option is checked, and the TLS context built, before the credential exists: a failure here never
        # leaves it in a traceback's locals.
        url = check_base_url(base_url, allow_insecure_http=check_flag("allow_insecure_http", allow_insecure_http))
        self._timeout = check_timeout(timeout)
        self._policy = RetryPolicy(
            max_retries=check_count("max_retries", max_retries, minimum=0),
            deadline=None if deadline is None else check_seconds("deadline", deadline),
        )
        if rate_limit is not None:
            check_count("rate_limit", rate_limit, minimum=1)
        if limiter is not None and not isinstance(limiter, FleetLimiter):
            raise ValueError("limiter takes a shared budget made by redis_limiter(...)")
        if rate_limit_key is not None and (not isinstance(rate_limit_key, str) or not rate_limit_key):
            raise ValueError("rate_limit_key must be a non-empty string")
        self._options = self._checked_options(split_http_client_args(http_client_args or {}))
        verify = self._options.verify
        if verify is True and not self._options.has_cert:
            verify = _default_ssl_context()
        header = _Secret(_auth_header(api_key, auth))
        self._pacing: tuple[str, int, FleetLimiter | None] | None = None
        if rate_limit is not None or limiter is not None:
            # The budget is named by a digest of the credential, so a raw key never reaches Redis or a log.
            key = rate_limit_key or hashlib.sha256(header.encode()).hexdigest()
            # With a fleet budget, in-process fallback pacing never goes above the fleet's rate.
            rate = limiter.rate_limit if limiter else DEFAULT_RATE_LIMIT
            self._pacing = (key, min(rate_limit or rate, rate) if limiter else rate_limit or rate, limiter)
        self._sleep = _sleep
        self._clock = _clock
        self.base_url = url
        self.rate_limit = rate_limit
        self.client = AuthenticatedClient(
            base_url=url,
            token=header,
            prefix="",
            timeout=self._timeout,
            verify_ssl=verify,
            httpx_args=self._options.httpx_args(self._transport_class),
        )
        """The generated low-level client: same credentials, timeouts and transport options, but none of the
        facade's pacing, retries or typed errors (its functions return the parsed model of a documented status)."""
        self._born_in = _fork.generation()
        self._start()
        self._rebuild_pools()

    @classmethod
    def _checked_options(cls, options: HttpOptions) -> HttpOptions:
        return options

    def _start(self) -> None:
        """Per-process state: built at construction, and again on first use in a forked child (where the parent's
        pacer is only forgotten, and a lock another thread held at the fork is left behind)."""
        self._generation = _fork.generation()
        if self._finalizer is not None:
            self._finalizer.detach()
        if self._pacer is not None:
            self._pacer.release()
        self._pacer = None if self._pacing is None else Pacer(*self._pacing)
        # A facade dropped without close() frees its budget too.
        self._finalizer = None if self._pacer is None else weakref.finalize(self, self._pacer.release)
        self._state_lock = threading.Lock()
        self._in_flight = 0

    def _in_this_process(self) -> bool:
        return self._generation == _fork.generation()

    def _ensure_process(self) -> None:
        if not self._in_this_process():
            with _fork.rebuild_lock():
                if not self._in_this_process():
                    self._start()
                    self._rebuild_pools()

    def _rebuild_pools(self) -> None:
        """Forget the parent's connection pools (never close them: their sockets are the parent's too)."""

    def _begin(self, event_id: str) -> None:
        """Admit one send, or raise ClientClosed; every admitted send ends with ``_end``."""
        self._ensure_process()
        with self._state_lock:
            if self._closed:
                raise ClientClosed(f"{type(self).__name__} was closed; nothing was sent", event_id=event_id)
            if self._options.caller_transport and self._born_in != self._generation:
                raise ClientClosed(
                    f"{type(self).__name__} holds a transport or mounts of yours, whose connections belong to the "
                    "process that forked this one; nothing was sent. Create the facade after the fork, or pass "
                    "transport options instead",
                    event_id=event_id,
                )
            self._in_flight += 1

    def _end(self) -> bool:
        """True when this was the last send in flight of a closed facade: the caller then shuts it down."""
        with self._state_lock:
            self._in_flight -= 1
            return self._closed and self._in_flight == 0

    def _mark_closed(self) -> bool:
        """Refuse new sends; True when none is in flight (the caller shuts down now; else the last send will)."""
        with self._state_lock:
            if self._closed:
                return False
            self._closed = True
            return self._in_flight == 0

    def _release_pacer(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
        if self._pacer is not None:
            self._pacer.release()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, rate_limit={self.rate_limit!r})"


class PeopleEvents(_Base):
    """Sends People events: retries what is safe (same eventId every time), paces to the account's limit,
    and raises a typed ``PeopleEventsError`` for every outcome but a 201.

    All times are in seconds. ``deadline`` bounds one ``send``: pacing waits, attempts and retries together.
    Safe across threads and ``os.fork()``: a forked child opens its own connections and pacing state.
    """

    _transport_class = httpx.HTTPTransport

    @classmethod
    def _checked_options(cls, options: HttpOptions) -> HttpOptions:
        transport = options.client_options.get("transport")
        if transport is not None and not is_sync_transport(transport):
            raise ValueError("http_client_args transport must be an httpx.BaseTransport for PeopleEvents")
        return options

    def _rebuild_pools(self) -> None:
        self.client = attrs.evolve(self.client, httpx_args=self._options.httpx_args(self._transport_class))
        # Built now, so that concurrent first sends share one pool.
        bound_by_deadlines(self.client.get_httpx_client())

    def send(
        self,
        person_id: str,
        definition_id: str,
        *,
        identifier_type: IdentifierType | str,
        properties: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        create_person: bool = False,
    ) -> EventResponse:
        """Send one event and return it as recorded (its ``event_id`` is this send's). Raises ValueError for invalid
        input before any I/O, and a ``PeopleEventsError`` subclass, with ``event_id`` set, for any other outcome."""
        prepared = _prepare(person_id, definition_id, identifier_type, properties, event_id, create_person)
        self._begin(prepared.event_id)
        try:
            http = self.client.get_httpx_client()
            state = SendState(self._policy, self._clock, prepared.event_id, self._timeout)
            request = prepared.build(http, self.base_url or "")
            outcome = run(http, request, state, self._pacer, self._sleep or time.sleep)
            return state.finish(outcome, self.client)
        finally:
            if self._end():
                self._shut_down()

    def close(self) -> None:
        """Refuse new sends (they raise ``ClientClosed``); once the sends in flight have finished, close the
        connection pool and free the pacing budget."""
        self._ensure_process()
        if self._mark_closed():
            self._shut_down()

    def _shut_down(self) -> None:
        self._release_pacer()
        if self._in_this_process():
            self.client.get_httpx_client().close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncPeopleEvents(_Base):
    """The asyncio twin of ``PeopleEvents``: same options, ``await send(...)``. Here the deadline also cuts an attempt
    short.

    Usable from any event loop: each loop gets its own connection pool (a pool is bound to the loop that opened
    it), so one instance survives several ``asyncio.run()`` calls; the pool of a loop that has closed is dropped.
    """

    _transport_class = httpx.AsyncHTTPTransport

    @classmethod
    def _checked_options(cls, options: HttpOptions) -> HttpOptions:
        transport = options.client_options.get("transport")
        if transport is not None and not is_async_transport(transport):
            raise ValueError("http_client_args transport must be an httpx.AsyncBaseTransport for AsyncPeopleEvents")
        return options

    def _rebuild_pools(self) -> None:
        self._loop_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._loop_clients_lock = threading.Lock()

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        with self._loop_clients_lock:
            http = self._loop_clients.get(loop)
            if http is None:
                # Pools of closed loops go now: a pooled connection would keep its loop, and its socket, alive.
                for closed in [other for other in self._loop_clients if other.is_closed()]:
                    del self._loop_clients[closed]
                per_loop = attrs.evolve(self.client, httpx_args=self._options.httpx_args(self._transport_class))
                http = self._loop_clients[loop] = per_loop.get_async_httpx_client()
            return http

    async def send(
        self,
        person_id: str,
        definition_id: str,
        *,
        identifier_type: IdentifierType | str,
        properties: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        create_person: bool = False,
    ) -> EventResponse:
        """Send one event and return it as recorded (its ``event_id`` is this send's). Raises ValueError for invalid
        input before any I/O, and a ``PeopleEventsError`` subclass, with ``event_id`` set, for any other outcome."""
        prepared = _prepare(person_id, definition_id, identifier_type, properties, event_id, create_person)
        self._begin(prepared.event_id)
        try:
            http = self._http()
            state = SendState(self._policy, self._clock, prepared.event_id, self._timeout)
            sleep: Callable[[float], Awaitable[Any]] = self._sleep or asyncio.sleep
            outcome = await run_async(http, prepared.build(http, self.base_url or ""), state, self._pacer, sleep)
            return state.finish(outcome, self.client)
        finally:
            if self._end():
                await self._shut_down()

    async def aclose(self) -> None:
        """Refuse new sends (they raise ``ClientClosed``); once the sends in flight have finished, close the
        connection pools and free the pacing budget."""
        self._ensure_process()
        if self._mark_closed():
            await self._shut_down()

    async def _shut_down(self) -> None:
        """Close this loop's pool here, and a pool of a loop still running elsewhere on that loop; pools of closed
        loops are dropped (their sockets went with their loop)."""
        self._release_pacer()
        if not self._in_this_process():
            return
        current = asyncio.get_running_loop()
        with self._loop_clients_lock:
            pools = list(self._loop_clients.items())
            self._loop_clients.clear()
        for loop, http in pools:
            if loop is current:
                await http.aclose()
            elif loop.is_running():
                asyncio.run_coroutine_threadsafe(http.aclose(), loop)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
