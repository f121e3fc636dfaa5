"""``PeopleEvents`` and ``AsyncPeopleEvents``: the production-safe way to send an event."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx
from pyrate_limiter import Limiter

from ._constants import DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RETRIES, DEFAULT_RATE_LIMIT, DEFAULT_READ_TIMEOUT
from ._http_options import split_http_client_args
from ._pacing import AsyncPacingTransport, Pacer, PacingTransport
from ._retry import AsyncRetryTransport, RetryPolicy, RetryTransport
from ._safety import check_base_url, check_credential, check_event_id, check_ids, check_properties
from ._transport import AsyncClassifyingTransport, ClassifyingTransport
from .api.events import send_custom_event
from .auth import Auth
from .client import AuthenticatedClient
from .exceptions import PeopleEventsError
from .models import EventProperties, EventRequest, EventResponse, IdentifierType
from .types import UNSET, Response

DEFAULT_TIMEOUT = httpx.Timeout(DEFAULT_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT)

_MALFORMED_201 = (ValueError, KeyError, TypeError, AttributeError, RecursionError)
"""What the generated parser raises on a 201 whose body is not an EventResponse."""


def new_event_id() -> str:
    """A fresh eventId (UUID4, 36 characters): the server records one eventId only once."""
    return str(uuid.uuid4())


def _auth_header(api_key: str | None, auth: Auth | None) -> str:
    if (api_key is None) == (auth is None):
        raise ValueError("give exactly one of api_key or auth")
    if api_key is not None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        return check_credential(f"App {api_key}")
    assert auth is not None
    return check_credential(auth.header_value())


class _Base:
    """Configuration shared by the sync and async facades; nothing here does I/O."""

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
        limiter: Limiter | None = None,
        allow_insecure_http: bool = False,
        http_client_args: Mapping[str, Any] | None = None,
        _sleep: Callable[[float], Any] | None = None,
        _clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``_sleep`` and ``_clock`` are test seams: inject them to run retries without waiting."""
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if rate_limit is not None and rate_limit < 1:
            raise ValueError("rate_limit must be a positive number of requests per second, or None for no pacing")
        self.base_url = check_base_url(base_url, allow_insecure_http=allow_insecure_http)
        header = _auth_header(api_key, auth)
        self.rate_limit = rate_limit
        self._policy = RetryPolicy(max_retries=max_retries, deadline=deadline)
        self._pacer: Pacer | None = None
        if rate_limit is not None or limiter is not None:
            # The budget is named by a digest of the credential, so a raw key never reaches Redis or a log.
            key = rate_limit_key or hashlib.sha256(header.encode()).hexdigest()
            self._pacer = Pacer(key, rate_limit or DEFAULT_RATE_LIMIT, limiter)
        options = split_http_client_args(http_client_args or {}, self.base_url)
        transport = self._stack(options.transport or self._http_transport(options.transport_options), _sleep, _clock)
        self.client = AuthenticatedClient(
            base_url=self.base_url,
            token=header,
            prefix="",
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            httpx_args={**options.client_options, "transport": transport, "trust_env": False},
        )
        """The generated low-level client, on the same transport stack (typed errors, and retries and pacing
        for every request; 5xx and lost responses are retried only for bodies that carry an eventId)."""

    @staticmethod
    def _http_transport(options: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _stack(self, inner: Any, sleep: Callable[[float], Any] | None, clock: Callable[[], float]) -> Any:
        raise NotImplementedError

    @staticmethod
    def _request(
        person_id: object,
        definition_id: object,
        identifier_type: IdentifierType | str,
        properties: Mapping[str, Any] | None,
        event_id: str | None,
        create_person: bool,
    ) -> dict[str, Any]:
        person_id, definition_id = check_ids(person_id, definition_id)
        event_id = new_event_id() if event_id is None else check_event_id(event_id)
        if properties is not None:
            check_properties(properties)
        body = EventRequest(
            event_id=event_id,
            properties=UNSET if properties is None else EventProperties.from_dict(properties),
        )
        return {
            "person_id": person_id,
            "definition_id": definition_id,
            "identifier_type": IdentifierType(identifier_type),
            "create_person": create_person,
            "body": body,
        }

    @staticmethod
    def _event(response: Response[Any], event_id: str) -> EventResponse:
        if not isinstance(response.parsed, EventResponse):
            raise PeopleEventsError("HTTP 201 without an event in the body", status=201, event_id=event_id)
        return response.parsed

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, rate_limit={self.rate_limit!r})"


class PeopleEvents(_Base):
    """Sends People events: retries what is safe (same eventId every time), paces to the account's limit,
    and raises a typed ``PeopleEventsError`` for every outcome but a 201.

    All times are in seconds. ``deadline`` bounds one ``send``, pacing waits and retries together.
    """

    @staticmethod
    def _http_transport(options: dict[str, Any]) -> httpx.BaseTransport:
        return httpx.HTTPTransport(**options)

    def _stack(
        self, inner: httpx.BaseTransport, sleep: Callable[[float], None] | None, clock: Callable[[], float]
    ) -> httpx.BaseTransport:
        transport = inner
        if self._pacer is not None:
            transport = PacingTransport(transport, self._pacer)
        retrying = RetryTransport(transport, self._policy, sleep=sleep or time.sleep, clock=clock)
        return ClassifyingTransport(retrying)

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
        """Send one event and return it as recorded. Raises ValueError for invalid ids, eventId or properties before
        any I/O."""
        request = self._request(person_id, definition_id, identifier_type, properties, event_id, create_person)
        event_id = request["body"].event_id
        try:
            response = send_custom_event.sync_detailed(client=self.client, **request)
        except PeopleEventsError as err:
            err.event_id = event_id
            raise
        except _MALFORMED_201 as err:
            raise PeopleEventsError("HTTP 201 with a malformed body", status=201, event_id=event_id) from err
        return self._event(response, event_id)

    def close(self) -> None:
        self.client.get_httpx_client().close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncPeopleEvents(_Base):
    """The asyncio twin of ``PeopleEvents``: same options, ``await send(...)``."""

    @staticmethod
    def _http_transport(options: dict[str, Any]) -> httpx.AsyncBaseTransport:
        return httpx.AsyncHTTPTransport(**options)

    def _stack(
        self,
        inner: httpx.AsyncBaseTransport,
        sleep: Callable[[float], Awaitable[None]] | None,
        clock: Callable[[], float],
    ) -> httpx.AsyncBaseTransport:
        transport = inner
        if self._pacer is not None:
            transport = AsyncPacingTransport(transport, self._pacer)
        retrying = AsyncRetryTransport(transport, self._policy, sleep=sleep or asyncio.sleep, clock=clock)
        return AsyncClassifyingTransport(retrying)

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
        """Send one event and return it as recorded. Raises ValueError for invalid ids, eventId or properties before
        any I/O."""
        request = self._request(person_id, definition_id, identifier_type, properties, event_id, create_person)
        event_id = request["body"].event_id
        try:
            response = await send_custom_event.asyncio_detailed(client=self.client, **request)
        except PeopleEventsError as err:
            err.event_id = event_id
            raise
        except _MALFORMED_201 as err:
            raise PeopleEventsError("HTTP 201 with a malformed body", status=201, event_id=event_id) from err
        return self._event(response, event_id)

    async def aclose(self) -> None:
        await self.client.get_async_httpx_client().aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
