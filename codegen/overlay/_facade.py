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

from . import _fork
from ._constants import DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RETRIES, DEFAULT_RATE_LIMIT, DEFAULT_READ_TIMEOUT
from ._fleet import FleetLimiter
from ._http_options import HttpOptions, is_async_transport, is_sync_transport, split_http_client_args
from ._logging import drop_hpack_header_logs
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
    event_id: str
    request_kwargs: dict[str, Any]
    """For ``httpx.Client.build_request``, from the generated ``_get_kwargs``."""


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
    kwargs["content"] = encode_body(kwargs.pop("json"))  # the generated Content-Type stays: application/json
    return _Prepared(event_id, kwargs)


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


class _Base:
    """Configuration shared by the sync and async facades; nothing here does I/O."""

    # Class-level defaults, so that repr() and close() work on a facade whose __init__ raised.
    base_url: str | None = None
    rate_limit: int | None = None
    _closed = False
    _pacer: Pacer | None = None
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
        url = check_base_url(base_url, allow_insecure_http=check_flag("allow_insecure_http", allow_insecure_http))
        header = _auth_header(api_key, auth)
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
        if self._options.http2:
            drop_hpack_header_logs()
        self._pacing: tuple[str, int, FleetLimiter | None] | None = None
        if rate_limit is not None or limiter is not None:
            # The budget is named by a digest of the credential, so a raw key never reaches Redis or a log.
            key = rate_limit_key or hashlib.sha256(header.encode()).hexdigest()
            self._pacing = (key, rate_limit or (limiter.rate_limit if limiter else DEFAULT_RATE_LIMIT), limiter)
        self._sleep = _sleep
        self._clock = _clock
        self.base_url = url
        self.rate_limit = rate_limit
        self.client = self._new_client(url, header)
        """The generated low-level client: same credentials, timeouts and transport options, but none of the
        facade's pacing, retries or typed errors (its functions return the parsed model of a documented status)."""
        self._start()

    @classmethod
    def _checked_options(cls, options: HttpOptions) -> HttpOptions:
        return options

    def _new_client(self, base_url: str, header: str) -> AuthenticatedClient:
        verify = self._options.verify
        if verify is True and "cert" not in self._options.client_options | self._options.transport_options:
            verify = _default_ssl_context()
        return AuthenticatedClient(
            base_url=base_url,
            token=header,
            prefix="",
            timeout=self._timeout,
            verify_ssl=verify,
            httpx_args=self._options.httpx_args(self._transport_class),
        )

    def _start(self) -> None:
        """Per-process state: built at construction, and again on first use in a forked child."""
        self._generation = _fork.generation()
        self._pacer = None if self._pacing is None else Pacer(*self._pacing)
        if self._pacer is not None:
            weakref.finalize(self, self._pacer.release)  # a facade dropped without close() frees its budget too

    def _in_this_process(self) -> bool:
        return self._generation == _fork.generation()

    def _release(self) -> bool:
        """Mark closed and free the pacing budget; False when it was closed already."""
        if self._closed:
            return False
        self._closed = True
        if self._pacer is not None:
            self._pacer.release()
        return True

    def _closed_error(self, event_id: str) -> ClientClosed:
        return ClientClosed(f"{type(self).__name__} was closed; nothing was sent", event_id=event_id)

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

    def _start(self) -> None:
        super()._start()
        self.client.get_httpx_client()  # built now, so that concurrent first sends share one pool

    def _http(self) -> httpx.Client:
        if not self._in_this_process():
            with _fork.rebuild_lock():
                if not self._in_this_process():
                    # Never close the parent's pool: its sockets are the parent's too. Only forget it.
                    self.client = attrs.evolve(self.client, httpx_args=self._options.httpx_args(self._transport_class))
                    self._start()
        return self.client.get_httpx_client()

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
        if self._closed:
            raise self._closed_error(prepared.event_id)
        http = self._http()
        state = SendState(self._policy, self._clock, prepared.event_id, self._timeout)
        outcome = run(
            http, http.build_request(**prepared.request_kwargs), state, self._pacer, self._sleep or time.sleep
        )
        return state.finish(outcome, self.client)

    def close(self) -> None:
        """Close the connection pool and free the pacing budget; later sends raise ``ClientClosed``."""
        if self._release() and self._in_this_process():
            self.client.get_httpx_client().close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncPeopleEvents(_Base):
    """The asyncio twin of ``PeopleEvents``: same options, ``await send(...)``.

    Usable from any event loop: each loop gets its own connection pool (a pool is bound to the loop that opened
    it), so one instance survives several ``asyncio.run()`` calls.
    """

    _transport_class = httpx.AsyncHTTPTransport

    @classmethod
    def _checked_options(cls, options: HttpOptions) -> HttpOptions:
        transport = options.client_options.get("transport")
        if transport is not None and not is_async_transport(transport):
            raise ValueError("http_client_args transport must be an httpx.AsyncBaseTransport for AsyncPeopleEvents")
        return options

    def _start(self) -> None:
        super()._start()
        self._loop_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AuthenticatedClient] = (
            weakref.WeakKeyDictionary()
        )
        self._loop_clients_lock = threading.Lock()

    def _http(self) -> httpx.AsyncClient:
        if not self._in_this_process():
            with _fork.rebuild_lock():
                if not self._in_this_process():
                    self._start()  # forgets the parent's pools without touching their sockets
        loop = asyncio.get_running_loop()
        with self._loop_clients_lock:
            client = self._loop_clients.get(loop)
            if client is None:
                client = attrs.evolve(self.client, httpx_args=self._options.httpx_args(self._transport_class))
                self._loop_clients[loop] = client
        return client.get_async_httpx_client()

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
        if self._closed:
            raise self._closed_error(prepared.event_id)
        http = self._http()
        state = SendState(self._policy, self._clock, prepared.event_id, self._timeout)
        sleep: Callable[[float], Awaitable[Any]] = self._sleep or asyncio.sleep
        outcome = await run_async(http, http.build_request(**prepared.request_kwargs), state, self._pacer, sleep)
        return state.finish(outcome, self.client)

    async def aclose(self) -> None:
        """Close this event loop's connection pool and free the pacing budget; later sends raise ``ClientClosed``.
        Pools of loops that have ended are dropped (their sockets went with their loop)."""
        if not self._release():
            return
        loop = asyncio.get_running_loop()
        with self._loop_clients_lock:
            client = self._loop_clients.pop(loop, None)
            self._loop_clients.clear()
        if client is not None and self._in_this_process():
            await client.get_async_httpx_client().aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
