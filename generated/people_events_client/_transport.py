# copied from codegen/overlay/_transport.py by `make regenerate`; edit there, never here.
"""The transport stack under the generated client: classify(retry(pace(inner))).

Classification is outermost, so every non-201 is turned into a typed error from the raw response
before the generated ``_parse_response`` can trip on an HTML page, an empty body or a status that
``HTTPStatus`` does not know.
"""

from __future__ import annotations

import httpx

from ._retry import aread_or_blank, read_or_blank
from .exceptions import TransportError, error_from_response


def _transport_error(err: httpx.TransportError) -> TransportError:
    kind = "timed out" if isinstance(err, httpx.TimeoutException) else "failed"
    return TransportError(f"request {kind}: {type(err).__name__}")


def _checked(request: httpx.Request, response: httpx.Response) -> httpx.Response:
    if response.status_code == 201:
        return response
    response.request = request
    raise error_from_response(response)


class ClassifyingTransport(httpx.BaseTransport):
    """Returns 201 responses; raises a ``PeopleEventsError`` subclass for everything else."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = read_or_blank(self._inner.handle_request(request))
        except httpx.TransportError as err:
            raise _transport_error(err) from err
        return _checked(request, response)

    def close(self) -> None:
        self._inner.close()


class AsyncClassifyingTransport(httpx.AsyncBaseTransport):
    """The asyncio twin of ``ClassifyingTransport``."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await aread_or_blank(await self._inner.handle_async_request(request))
        except httpx.TransportError as err:
            raise _transport_error(err) from err
        return _checked(request, response)

    async def aclose(self) -> None:
        await self._inner.aclose()
