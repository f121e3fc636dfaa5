"""The send loop: pace, attempt, settle the permit, decide, wait; then classify the last outcome into the event or a
typed error.

One loop holds pacing, retries and the deadline. httpx runs the user's event hooks on every attempt, before the
outcome is classified (as ``raise_for_status`` would), so response hooks see 4xx and 5xx responses too. An
exception from user code (a hook, a transport of the caller's) propagates unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ._constants import LOGGER_NAME
from ._deadline_io import attempt_deadline
from ._pacing import Pacer, now_ms
from ._retry import RetryPolicy, jitter, may_have_stored, retry_delay, should_retry
from ._retry_after import parse_retry_after
from .api.events import send_custom_event
from .client import AuthenticatedClient
from .exceptions import DeadlineExceeded, PeopleEventsError, TransportError, UnexpectedResponse, error_from_response
from .models import EventResponse

logger = logging.getLogger(LOGGER_NAME)

Outcome = httpx.Response | httpx.TransportError

_PARSE_ERRORS = (ValueError, KeyError, TypeError, AttributeError, RecursionError)
"""What the generated parser raises on a body that is not the documented model."""
_MIN_ATTEMPT_TIMEOUT = 0.001


def _with_body(response: httpx.Response, content: bytes) -> httpx.Response:
    """The same status and headers with ``content`` as the (already decoded) body."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    return httpx.Response(response.status_code, headers=headers, content=content, request=response.request)


_UNREADABLE = (httpx.DecodingError, httpx.StreamClosed)
"""A body that cannot be decoded (a proxy page labelled gzip), or that a user's response hook closed unread: the
response is classified by its status, with an empty body."""


def read_or_blank(response: httpx.Response, state: SendState | None = None) -> httpx.Response:
    """The response with its body read, or with an empty one when the body is unreadable. With a deadline, the body
    is read chunk by chunk and the read stops once the deadline has passed (a server trickling bytes cannot hold a
    send much past its deadline)."""
    try:
        if state is None or state.deadline_at is None:
            response.read()
            return response
        chunks = []
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if state.past_deadline():
                    break
        except httpx.TimeoutException:
            if not state.past_deadline():
                raise
        if state.past_deadline():
            # The status is known: it, not the cut read, says whether the event may be stored (a 4xx stores nothing).
            response.close()
            state.may_be_stored = state.may_be_stored or may_have_stored(response)
            raise state.deadline_exceeded("while the response was arriving")
        return _with_body(response, b"".join(chunks))
    except _UNREADABLE:
        response.close()
        return _with_body(response, b"")


async def aread_or_blank(response: httpx.Response) -> httpx.Response:
    """The asyncio twin of ``read_or_blank`` (the deadline bounds the whole attempt in ``run_async``)."""
    try:
        await response.aread()
    except _UNREADABLE:
        await response.aclose()
        return _with_body(response, b"")
    return response


class SentAt:
    """httpcore's ``trace`` extension for one attempt: notes when the request's last byte was written, the moment
    the server is about to count it (``Pacer.settle`` counts the attempt's permit from then). Not the response: that
    comes a round trip later, and counting from it would cost the account that round trip in every second."""

    __slots__ = ("ms",)

    def __init__(self) -> None:
        self.ms: int | None = None

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_body.complete"):
            self.ms = now_ms()

    async def atrace(self, event: str, info: dict[str, Any]) -> None:
        self(event, info)


def _describe(outcome: Outcome) -> str:
    return str(outcome.status_code) if isinstance(outcome, httpx.Response) else type(outcome).__name__


class SendState:
    """The bookkeeping of one send: attempts, the deadline, what may have been stored, and the final verdict."""

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float], event_id: str, timeout: httpx.Timeout) -> None:
        self.policy = policy
        self.clock = clock
        self.event_id = event_id
        self.deadline_at = None if policy.deadline is None else clock() + policy.deadline
        # The configured timeouts (all finite: the facade checks them), capped per attempt only with a deadline.
        self._timeouts: dict[str, float] = {}
        if self.deadline_at is not None:
            self._timeouts = {name: value for name, value in timeout.as_dict().items() if value is not None}
        self.attempt = 0
        self.may_be_stored = False

    def remaining(self) -> float | None:
        return None if self.deadline_at is None else self.deadline_at - self.clock()

    def past_deadline(self) -> bool:
        return self.deadline_at is not None and self.clock() >= self.deadline_at

    def deadline_exceeded(self, during: str) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"the deadline of {self.policy.deadline}s passed {during} (after {self.attempt} attempt(s))",
            event_id=self.event_id,
            may_be_stored=self.may_be_stored,
        )

    def start_attempt(self, request: httpx.Request) -> None:
        """Count the attempt, and cap its timeouts at the time left, so that the deadline bounds it too."""
        remaining = self.remaining()
        if remaining is not None:
            if remaining <= 0:
                raise self.deadline_exceeded("before an attempt could start")
            request.extensions["timeout"] = {
                name: max(_MIN_ATTEMPT_TIMEOUT, min(value, remaining)) for name, value in self._timeouts.items()
            }
        self.attempt += 1

    def next_wait(self, outcome: Outcome) -> float | None:
        """Seconds to wait before the next attempt, or None to stop here with ``outcome``."""
        self.may_be_stored = self.may_be_stored or may_have_stored(outcome)
        if logger.isEnabledFor(logging.DEBUG):  # every send passes here: skip formatting when DEBUG is off
            logger.debug("attempt %d/%d -> %s", self.attempt, self.policy.max_retries + 1, _describe(outcome))
        if not should_retry(outcome) or self.attempt > self.policy.max_retries:
            return None
        retry_after = None
        if isinstance(outcome, httpx.Response):
            retry_after = parse_retry_after(outcome.headers.get("retry-after"))
        wait = retry_delay(self.policy, self.attempt, retry_after, jitter())
        if self.deadline_at is not None and self.clock() + wait >= self.deadline_at:
            logger.debug("giving up: the next wait of %.3fs would pass the deadline", wait)
            return None
        return wait

    def finish(self, outcome: Outcome, client: AuthenticatedClient) -> EventResponse:
        """The recorded event, or the typed error for the last outcome."""
        if isinstance(outcome, httpx.TransportError):
            remaining = self.remaining()
            if remaining is not None and remaining <= 0:
                raise self.deadline_exceeded("during the last attempt") from outcome
            kind = "timed out" if isinstance(outcome, httpx.TimeoutException) else "failed"
            raise TransportError(
                f"request {kind}: {type(outcome).__name__} (after {self.attempt} attempt(s))",
                event_id=self.event_id,
                may_be_stored=self.may_be_stored,
            ) from outcome
        parsed: object
        try:
            parsed = send_custom_event._parse_response(client=client, response=outcome)
        except _PARSE_ERRORS as err:
            parsed = err
        if outcome.status_code != 201:
            raise error_from_response(
                outcome,
                parsed=None if isinstance(parsed, Exception) else parsed,
                event_id=self.event_id,
                may_be_stored=self.may_be_stored,
                max_retry_after=self.policy.max_retry_after,
            )
        if isinstance(parsed, EventResponse) and parsed.event_id == self.event_id:
            return parsed
        raise self._unexpected_201(outcome, parsed)

    def _unexpected_201(self, response: httpx.Response, parsed: object) -> PeopleEventsError:
        if isinstance(parsed, EventResponse) and isinstance(parsed.event_id, str):
            what = f"for another event (eventId {parsed.event_id!r}; this send's is {self.event_id!r})"
        else:
            what = "whose body is not an event"
        error = UnexpectedResponse(
            f"HTTP 201 {what}", status=201, event_id=self.event_id, may_be_stored=True, response=response
        )
        if isinstance(parsed, BaseException):
            error.__cause__ = parsed
        return error


def run(
    http: httpx.Client,
    request: httpx.Request,
    state: SendState,
    pacer: Pacer | None,
    sleep: Callable[[float], Any] = time.sleep,
) -> Outcome:
    """Attempt until an outcome is final; return it (a response, or the transport error of the last attempt)."""
    while True:
        permit = None
        if pacer is not None:
            permit = pacer.acquire(state.deadline_at, state.clock)
            if permit is None:
                raise state.deadline_exceeded("waiting for the rate limit")
        state.start_attempt(request)
        sent_at = SentAt()
        if permit is not None:
            request.extensions["trace"] = sent_at
        outcome: Outcome
        try:
            with attempt_deadline(state.remaining()):
                outcome = read_or_blank(http.send(request, stream=True), state)
        except httpx.TransportError as err:
            outcome = err
        finally:
            if pacer is not None and permit is not None:
                pacer.settle(permit, sent_at.ms)
        wait = state.next_wait(outcome)
        if wait is None:
            return outcome
        if isinstance(outcome, httpx.Response):
            outcome.close()
        sleep(wait)


async def run_async(
    http: httpx.AsyncClient,
    request: httpx.Request,
    state: SendState,
    pacer: Pacer | None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> Outcome:
    """The asyncio twin of ``run``; here the deadline also cuts an attempt short."""
    while True:
        permit = None
        if pacer is not None:
            permit = await pacer.acquire_async(state.deadline_at, state.clock)
            if permit is None:
                raise state.deadline_exceeded("waiting for the rate limit")
        state.start_attempt(request)
        sent_at = SentAt()
        if permit is not None:
            request.extensions["trace"] = sent_at.atrace
        outcome: Outcome
        attempt_bound = asyncio.timeout(state.remaining())
        try:
            async with attempt_bound:
                outcome = await aread_or_blank(await http.send(request, stream=True))
        except httpx.TransportError as err:
            outcome = err
        except TimeoutError:
            if not attempt_bound.expired():
                raise  # not ours
            state.may_be_stored = True  # the request may have reached the server
            raise state.deadline_exceeded("during an attempt") from None
        finally:
            if pacer is not None and permit is not None:
                pacer.settle(permit, sent_at.ms)
        wait = state.next_wait(outcome)
        if wait is None:
            return outcome
        if isinstance(outcome, httpx.Response):
            await outcome.aclose()
        await sleep(wait)
