"""A live run's settings and its guard: what keeps a contract run against a real server safe by construction.

Every request of a live run passes through one `LiveGuard`: the requests library's (schemathesis sends
with it; `guard_every_requests_call` patches its adapter) and the client's (`GuardedAsyncTransport`). The
guard refuses anything but a Send Event POST about the named person and definition, or about a person the
guard itself made up (`LiveGuard.mint_person`: a fresh random id nobody can have created, for checks that
must get 404); it never lets createPerson through, paces requests under the account's limit (only requests
about a made-up person may skip pacing: the rate-limit probe's), and stops sending once the requests that
may have stored an event reach the budget (INFOBIP_MAX_EVENTS, default 50).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from unittest import mock
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import requests
from requests.adapters import HTTPAdapter

from .spec import SEND_EVENT_PATH, identifier_types, max_length

__all__ = [
    "DEFAULT_MAX_EVENTS",
    "LIVE_ENV",
    "UNPACED",
    "EventBudgetExhausted",
    "GuardedAsyncTransport",
    "LiveGuard",
    "LiveSafetyError",
    "LiveSettings",
    "fresh_person_id",
    "guard_every_requests_call",
]

LIVE_ENV: Final = (
    "INFOBIP_BASE_URL",
    "INFOBIP_API_KEY",
    "INFOBIP_PERSON_ID",
    "INFOBIP_IDENTIFIER_TYPE",
    "INFOBIP_DEFINITION_ID",
)
#: Events a live run may store at most, unless INFOBIP_MAX_EVENTS says otherwise.
DEFAULT_MAX_EVENTS: Final = 50
#: Requests per second to a live target: under the account's 250/s, leaving room for the team's own traffic.
LIVE_REQUESTS_PER_SECOND: Final = 200.0
#: The Send Event path, from the spec's template: its two ids as the groups `person` and `definition`.
_EVENTS_PATH: Final = re.compile(
    "^"
    + re.escape(SEND_EVENT_PATH)
    .replace(re.escape("{personId}"), "(?P<person>[^/]*)")
    .replace(re.escape("{definitionId}"), "(?P<definition>[^/]*)")
    + "$"
)
#: An httpx request extension: ``extensions={UNPACED: True}`` asks the guard not to pace the request (admitted
#: only for a person the guard made up).
UNPACED: Final = "contract_tests.unpaced"
#: Made-up ids of these types are digits: a phone number in E.164's 15 digits under the unassigned country code 999,
#: and a person id that still fits a signed 64-bit integer.
_NUMERIC_PREFIX_AND_LENGTH: Final = {"PHONE": ("999", 15), "ID": ("9", 18)}


def fresh_person_id(identifier_type: str) -> str:
    """A random person id of `identifier_type` that no account can have created (at least 40 random bits), shaped
    like one: digits for a phone number or a person id, an address for an email, a token otherwise."""
    if identifier_type in _NUMERIC_PREFIX_AND_LENGTH:
        prefix, length = _NUMERIC_PREFIX_AND_LENGTH[identifier_type]
        return prefix + "".join(secrets.choice("0123456789") for _ in range(length - len(prefix)))
    token = f"contract-unknown-{secrets.token_hex(12)}"
    return f"{token}@example.invalid" if identifier_type == "EMAIL" else token


class LiveSafetyError(RuntimeError):
    """A request that a live run must never send (a bug in the suite's shaping of cases); it was not sent."""


class EventBudgetExhausted(RuntimeError):
    """The live run's event budget is used up; the request was not sent."""


@dataclass(frozen=True, slots=True)
class LiveSettings:
    """The live target and its bounds, from the environment."""

    base_url: str
    api_key: str = field(repr=False)
    person_id: str
    identifier_type: str
    definition_id: str
    max_events: int = DEFAULT_MAX_EVENTS
    properties: Mapping[str, Any] | None = None
    requests_per_second: float = LIVE_REQUESTS_PER_SECOND

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LiveSettings:
        """Read the INFOBIP_* variables; raise ValueError naming whatever is missing or invalid."""
        missing = [name for name in LIVE_ENV if not env.get(name)]
        if missing:
            raise ValueError(f"CONTRACT_TARGET=live needs {', '.join(missing)} (see README, 'Contract suite')")
        identifier_type = env["INFOBIP_IDENTIFIER_TYPE"]
        if identifier_type not in identifier_types():
            raise ValueError(
                f"INFOBIP_IDENTIFIER_TYPE={identifier_type!r} is not one of {', '.join(identifier_types())}"
            )
        max_events = int(env.get("INFOBIP_MAX_EVENTS") or DEFAULT_MAX_EVENTS)
        if max_events < 0:
            raise ValueError("INFOBIP_MAX_EVENTS must be >= 0")
        properties = json.loads(env["INFOBIP_PROPERTIES"]) if env.get("INFOBIP_PROPERTIES") else None
        if properties is not None and not isinstance(properties, dict):
            raise ValueError("INFOBIP_PROPERTIES must be a JSON object")
        return cls(
            base_url=env["INFOBIP_BASE_URL"].rstrip("/"),
            api_key=env["INFOBIP_API_KEY"],
            person_id=env["INFOBIP_PERSON_ID"],
            identifier_type=identifier_type,
            definition_id=env["INFOBIP_DEFINITION_ID"],
            max_events=max_events,
            properties=properties,
        )

    @property
    def authorization(self) -> str:
        """The Authorization header value."""
        return f"App {self.api_key}"


class LiveGuard:
    """The one gate every request to a live target passes. Thread-safe: one lock guards the counters.

    - It refuses (`LiveSafetyError`) anything but ``POST`` to the Send Event path of the live base URL,
      a createPerson other than ``false``, and any personId, definitionId or identifierType that could
      name something other than the named person and definition (values too long or empty for the spec
      cannot name anything, so negative cases keep them).
    - Event budget: a request reserves one of `max_events` slots before it is sent. The slot is given back
      when the answer is a 4xx (nothing was stored); a 2xx, a 5xx or no answer keeps it, as the event may
      have been stored. So at most `max_events` events are stored, whatever the server does.
    - Pacing: request starts are spaced 1/`requests_per_second` apart. A fixed interval is all a
      sequential test run needs, and it holds under any burst (a token bucket would allow one).
    """

    def __init__(self, settings: LiveSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._interval = 1.0 / settings.requests_per_second
        self._next_start = 0.0
        self._person_max = max_length("personId")
        self._definition_max = max_length("definitionId")
        base = urlsplit(settings.base_url)
        self._origin = (base.scheme, base.netloc)
        self._base_path = base.path.rstrip("/")
        self._minted: set[str] = set()
        self.may_have_stored = 0
        self.in_flight = 0
        self.sent = 0
        self.refused = 0
        self.statuses: Counter[str] = Counter()

    @property
    def remaining(self) -> int:
        """Slots left in the event budget."""
        with self._lock:
            return self.settings.max_events - self.may_have_stored - self.in_flight

    def mint_person(self, identifier_type: str) -> str:
        """A fresh random person id (see `fresh_person_id`) that the guard then admits, with any one documented
        identifierType and never createPerson: a request about it can only get 404 (or 400, 401, 429)."""
        person_id = fresh_person_id(identifier_type)
        with self._lock:
            self._minted.add(person_id)
        return person_id

    def check(self, method: str, url: str, *, paced: bool = True) -> None:
        """Raise `LiveSafetyError` unless the request stays within the live run's bounds."""
        parts = urlsplit(url)
        path = parts.path
        if (parts.scheme, parts.netloc) != self._origin or not path.startswith(self._base_path):
            raise LiveSafetyError(f"live run: refusing a request outside {self.settings.base_url}")
        found = _EVENTS_PATH.match(path[len(self._base_path) :])
        if method.upper() != "POST" or found is None:
            raise LiveSafetyError(f"live run: only POST to Send Event is sent, not {method} {path}")
        person = unquote(found["person"])
        minted = person in self._minted
        if not paced and not minted:
            raise LiveSafetyError("live run: only requests about a made-up person may skip pacing")
        if not minted and not self._names_nothing_else(person, self.settings.person_id, self._person_max):
            raise LiveSafetyError("live run: refusing a request about a person other than INFOBIP_PERSON_ID")
        if not self._names_nothing_else(
            unquote(found["definition"]), self.settings.definition_id, self._definition_max
        ):
            raise LiveSafetyError("live run: refusing a request about a definition other than INFOBIP_DEFINITION_ID")
        query = parse_qs(parts.query, keep_blank_values=True)
        if any(value != "false" for value in query.get("createPerson", [])):
            raise LiveSafetyError("live run: createPerson is never sent")
        types = query.get("identifierType", [])
        if minted:
            if len(types) != 1 or types[0] not in identifier_types():
                raise LiveSafetyError("live run: a made-up person is sent with one documented identifierType")
            return
        named = self.settings.identifier_type
        if any(value.upper() in identifier_types() and value.upper() != named for value in types):
            raise LiveSafetyError("live run: refusing an identifierType other than INFOBIP_IDENTIFIER_TYPE")

    @staticmethod
    def _names_nothing_else(value: str, named: str, limit: int) -> bool:
        return value in (named, "") or len(value) > limit

    def admit(self, method: str, url: str, *, paced: bool = True) -> float:
        """Check the request, reserve a budget slot, and return the seconds to wait before sending it (none for an
        unpaced request)."""
        self.check(method, url, paced=paced)
        with self._lock:
            if self.settings.max_events - self.may_have_stored - self.in_flight <= 0:
                self.refused += 1
                raise EventBudgetExhausted(f"live run: the budget of {self.settings.max_events} events is used up")
            self.in_flight += 1
            self.sent += 1
            if not paced:
                return 0.0
            now = self._clock()
            start = max(now, self._next_start)
            self._next_start = start + self._interval
            return start - now

    def settle(self, status: int | None) -> None:
        """Record the outcome of an admitted request; a 4xx gives its budget slot back."""
        with self._lock:
            self.in_flight -= 1
            self.statuses["no response" if status is None else str(status)] += 1
            if status is None or not 400 <= status < 500:
                self.may_have_stored += 1


class GuardedAsyncTransport(httpx.AsyncBaseTransport):
    """The client's httpx transport on a live run: sends only what the `LiveGuard` admits, when it says."""

    def __init__(self, guard: LiveGuard, inner: httpx.AsyncBaseTransport) -> None:
        self._guard = guard
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        paced = not request.extensions.get(UNPACED, False)
        await asyncio.sleep(self._guard.admit(request.method, str(request.url), paced=paced))
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            self._guard.settle(None)
            raise
        self._guard.settle(response.status_code)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@contextlib.contextmanager
def guard_every_requests_call(guard: LiveGuard) -> Iterator[None]:
    """Route every request that the `requests` library sends (schemathesis's transport) through `guard`.

    Patching the adapter, not handing schemathesis a session, is what makes this complete: the built-in
    checks send their probes (missing and invalid credentials) on a fresh session of their own.
    """
    send = HTTPAdapter.send

    def guarded_send(adapter: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        time.sleep(guard.admit(request.method or "GET", request.url or ""))
        try:
            response = send(adapter, request, *args, **kwargs)
        except BaseException:
            guard.settle(None)
            raise
        guard.settle(response.status_code)
        return response

    with mock.patch.object(HTTPAdapter, "send", guarded_send):
        yield
