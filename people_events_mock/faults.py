"""Injected faults: what they are, when they fire, and the responses they give.

Faults (docs/ARCHITECTURE.md, "Faults"):

=====================  ==============================================================================
``500``                a JSON 500 in Infobip's envelope; nothing stored
``html-502``           a proxy's HTML 502 page (``text/html``); nothing stored
``empty-429``          a 429 with no body and no Retry-After; nothing stored
``reset``              the connection drops before a complete response; nothing stored
``delay=<ms>``         the request waits <ms> milliseconds (at most 60,000), then proceeds normally
``500-after-store``    the event IS stored, then a JSON 500
``reset-after-store``  the event IS stored, then the connection drops
=====================  ==============================================================================

Where faults apply: only to Send Event requests that passed every check (auth, scope, rate
limit, size, media type, validation, person and definition lookup), i.e. requests that would
otherwise get 201, including idempotent replays. A rejected request always gets its 4xx, and an
unparseable X-Mock-Fault header is itself a 400 (``validationErrors["X-Mock-Fault"]``). The admin
API never has faults.

How they are chosen, first match wins:

1. the request header ``X-Mock-Fault: <fault>[;times=N]``. With ``times=N`` the fault fires on the
   first N requests carrying that header value for the same (account, person, eventId), so that
   retries of one event get through after N failures; requests without an eventId share one
   counter per (account, person). Without ``times`` it fires on every request that carries it.
2. the rules set by ``PUT /_mock/faults``, in the order they were set: ``{"fault": f, "next": N}``
   fires on the next N eligible requests; ``{"fault": f, "probability": p}`` fires on each with
   probability p. Setting a fault again replaces its rule. ``DELETE /_mock/faults`` clears all.

A dropped connection ("reset"): the response head is sent (a 500 promising a 64-byte body), then
the app raises `InjectedConnectionReset` (a `ConnectionResetError`). Over HTTP, uvicorn closes
the connection, and an httpx client sees a transport error (`httpx.RemoteProtocolError`).
In-process (httpx.ASGITransport), the `ConnectionResetError` itself propagates to the caller.
`people_events_mock.server.QuietInjectedResets` keeps uvicorn from logging a traceback for each.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from starlette import status
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from people_events_mock.constants import MAX_DELAY_MS
from people_events_mock.errors import error_response
from people_events_mock.spec import SpecFacts
from people_events_mock.store import PersonKey

__all__ = [
    "ConnectionDrop",
    "Fault",
    "FaultBook",
    "FaultKind",
    "FaultRequest",
    "FaultRule",
    "InjectedConnectionReset",
    "parse_fault",
    "parse_fault_header",
]

_MAX_TIMES_DIGITS: Final = 9
_HTML_502: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
    b"<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class FaultKind(StrEnum):
    """The kinds of fault."""

    ERROR_500 = "500"
    HTML_502 = "html-502"
    EMPTY_429 = "empty-429"
    RESET = "reset"
    DELAY = "delay"
    ERROR_500_AFTER_STORE = "500-after-store"
    RESET_AFTER_STORE = "reset-after-store"


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault; `delay_ms` is set for `delay=<ms>` only."""

    kind: FaultKind
    delay_ms: int = 0

    def __str__(self) -> str:
        return f"delay={self.delay_ms}" if self.kind is FaultKind.DELAY else self.kind.value

    @property
    def after_store(self) -> bool:
        """Whether the event is stored before the response fails."""
        return self.kind in (FaultKind.ERROR_500_AFTER_STORE, FaultKind.RESET_AFTER_STORE)

    def response(self, spec: SpecFacts | None = None) -> Response:
        """The failing response. `delay` has none: a delayed request proceeds."""
        if self.kind in (FaultKind.ERROR_500, FaultKind.ERROR_500_AFTER_STORE):
            return error_response(status.HTTP_500_INTERNAL_SERVER_ERROR, spec=spec)
        if self.kind is FaultKind.HTML_502:
            return HTMLResponse(_HTML_502, status_code=status.HTTP_502_BAD_GATEWAY)
        if self.kind is FaultKind.EMPTY_429:
            return Response(status_code=status.HTTP_429_TOO_MANY_REQUESTS)
        if self.kind in (FaultKind.RESET, FaultKind.RESET_AFTER_STORE):
            return ConnectionDrop()
        raise ValueError(f"fault {self} has no response")


def parse_fault(text: str) -> Fault:
    """Parse ``500``, ``html-502``, ``empty-429``, ``reset``, ``delay=<ms>``, ``500-after-store`` or
    ``reset-after-store``. Raises ValueError."""
    text = text.strip()
    if text.startswith("delay="):
        milliseconds = text.removeprefix("delay=")
        # The length check first: int() of 4,300+ digits raises with a message about Python internals.
        too_long = len(milliseconds) > len(str(MAX_DELAY_MS))
        if too_long or not milliseconds.isascii() or not milliseconds.isdigit() or int(milliseconds) > MAX_DELAY_MS:
            raise ValueError(f"delay must be 0-{MAX_DELAY_MS} milliseconds")
        return Fault(FaultKind.DELAY, delay_ms=int(milliseconds))
    try:
        kind = FaultKind(text)
    except ValueError:
        known = ", ".join(kind.value for kind in FaultKind if kind is not FaultKind.DELAY)
        raise ValueError(f"unknown fault; use one of {known}, delay=<ms>") from None
    if kind is FaultKind.DELAY:
        raise ValueError("delay needs milliseconds: delay=<ms>")
    return Fault(kind)


@dataclass(frozen=True, slots=True)
class FaultRequest:
    """A parsed X-Mock-Fault header; `times` None means every request."""

    fault: Fault
    times: int | None = None


def parse_fault_header(value: str) -> FaultRequest:
    """Parse ``<fault>[;times=N]``. Raises ValueError."""
    fault_text, _, params = value.partition(";")
    fault = parse_fault(fault_text)
    if not params.strip():
        return FaultRequest(fault)
    name, _, count = params.partition("=")
    count = count.strip()
    usable = count.isascii() and count.isdigit() and len(count) <= _MAX_TIMES_DIGITS
    if name.strip().lower() != "times" or not usable or int(count) < 1:
        raise ValueError(f"the only parameter is times=N with 1 <= N < 10**{_MAX_TIMES_DIGITS}")
    return FaultRequest(fault, times=int(count))


@dataclass(frozen=True, slots=True)
class FaultRule:
    """A rule set through the admin API: fires on the `next` N requests, or with `probability`."""

    fault: Fault
    probability: float | None = None
    next: int | None = None

    def as_json(self) -> dict[str, object]:
        """The rule as the admin API shows it."""
        rule: dict[str, object] = {"fault": str(self.fault)}
        if self.probability is not None:
            rule["probability"] = self.probability
        if self.next is not None:
            rule["next"] = self.next
        return rule


class FaultBook:
    """Fault rules and per-event counters. Thread-safe: one lock guards both."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = rng or random.Random()
        self._rules: dict[str, FaultRule] = {}
        self._counters: dict[tuple[str, PersonKey, str | None], int] = {}

    def set_rule(self, rule: FaultRule) -> None:
        """Add a rule, replacing any rule of the same fault."""
        with self._lock:
            self._rules.pop(str(rule.fault), None)
            self._rules[str(rule.fault)] = rule

    def rules(self) -> list[FaultRule]:
        """The active rules in the order they were set."""
        with self._lock:
            return list(self._rules.values())

    def reset(self) -> None:
        """Clear every rule and counter."""
        with self._lock:
            self._rules.clear()
            self._counters.clear()

    def choose(self, requested: FaultRequest | None, person: PersonKey, event_id: str | None) -> Fault | None:
        """The fault for an otherwise successful request, or None."""
        with self._lock:
            if requested is not None:
                if requested.times is None:
                    return requested.fault
                key = (str(requested.fault), person, event_id)
                seen = self._counters.get(key, 0) + 1
                self._counters[key] = seen
                if seen <= requested.times:
                    return requested.fault
            for name, rule in list(self._rules.items()):
                if rule.next is not None:
                    if rule.next <= 1:
                        del self._rules[name]
                    else:
                        self._rules[name] = FaultRule(rule.fault, next=rule.next - 1)
                    return rule.fault
                if rule.probability is not None and self._rng.random() < rule.probability:
                    return rule.fault
            return None


class InjectedConnectionReset(ConnectionResetError):
    """Raised by the reset faults after the response head, so that the server drops the connection."""


class ConnectionDrop(Response):
    """Sends a response head promising a body, then raises ConnectionResetError: the server drops the connection."""

    def __init__(self) -> None:
        super().__init__(status_code=status.HTTP_500_INTERNAL_SERVER_ERROR)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
            }
        )
        raise InjectedConnectionReset("people_events_mock: injected fault 'reset' drops the connection")
