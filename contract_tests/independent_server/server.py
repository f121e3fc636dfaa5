"""The independent Send Event server: the documented behaviour (openapi.yaml, the seed) on ``http.server``, with one
optional deviation (variants.py).

Behaviour, in the order it answers: a path other than Send Event's is 404 and another method 405; 401 for missing
or wrong credentials (``App <key>``); 429 once the account has had its limit of requests in the rolling second,
with Retry-After in whole seconds; 413 over 512,000 bytes; 415 for a body that is not JSON; 400 for malformed ids,
query or body (the spec's lengths, enum and eventId pattern); 404 for an unknown definition; 400 for properties the
definition does not have or types it does not match; 404 for an unknown person (createPerson creates PHONE, EMAIL
and EXTERNAL_ID persons); 201 with the event, where a repeated eventId for a person returns the event first
recorded. Every error is Infobip's JSON envelope.

The one definition is the seed's: its fields and their JSON types come from the seed request example.
"""

from __future__ import annotations

import collections
import contextlib
import json
import math
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from ..spec import (
    SEND_EVENT_PATH,
    event_id_pattern,
    identifier_types,
    max_length,
    seed_properties,
    seed_response_example,
    throttling_limit,
)
from .variants import CORRECT, Variant

__all__ = ["IndependentServer", "Reply", "StoredEvent", "serve"]

#: The request body limit (the 413 description of openapi.yaml).
MAX_BODY_BYTES: Final = 512_000
#: Identifier types createPerson may create (the createPerson description of openapi.yaml).
CREATABLE: Final = frozenset({"PHONE", "EMAIL", "EXTERNAL_ID"})
_JSON_TYPES: Final = re.compile(r"^(application/(json|[^;\s]+\+json)|text/json)\s*(;|$)", re.IGNORECASE)
_PENALTY_SECONDS: Final = 5.0


@dataclass(frozen=True, slots=True)
class Reply:
    """A response: status, headers, body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An accepted event and whom it is about."""

    identifier_type: str
    person_id: str
    body: Mapping[str, Any]


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object" if isinstance(value, dict) else "null"


def _definition_fields(sample: Mapping[str, Any]) -> dict[str, Any]:
    """Field name -> JSON type (or, for a list of objects, the items' fields), from a sample of properties."""
    fields: dict[str, Any] = {}
    for name, value in sample.items():
        if isinstance(value, list):
            items: dict[str, str] = {}
            for item in value:
                items.update({key: _kind(v) for key, v in item.items()})
            fields[name] = items
        else:
            fields[name] = _kind(value)
    return fields


@dataclass
class IndependentServer:
    """The server's state and logic, apart from HTTP: `handle` turns a request into a `Reply`."""

    api_key: str
    persons: set[tuple[str, str]]
    variant: Variant = CORRECT
    definition_id: str = field(default_factory=lambda: str(seed_response_example()["definitionId"]))
    clock: Any = time.monotonic
    events: list[StoredEvent] = field(default_factory=list)
    created_persons: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()  # _throttle runs inside handle's critical section too
        self._fields = _definition_fields(seed_properties())
        self._window: collections.deque[float] = collections.deque()
        self._penalty_until = 0.0
        self._limit = throttling_limit() + (50 if self._is("limit-300") else 0)
        self._segments = SEND_EVENT_PATH.strip("/").split("/")
        self._types = identifier_types()
        self._event_id = event_id_pattern()

    def _is(self, name: str) -> bool:
        return self.variant.name == name

    # --- replies ---------------------------------------------------------------------------------------------

    def _json(self, status: int, body: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
        return Reply(status, (("Content-Type", "application/json"), *headers), json.dumps(body).encode())

    def error(
        self,
        status: int,
        message_id: str,
        text: str,
        validation_errors: dict[str, list[str]] | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Reply:
        """Infobip's error envelope (or, for the text-plain deviations, plain text)."""
        plain = self._is("text-plain-errors") or (status == 429 and self._is("throttled-text-plain"))
        if plain:
            return Reply(status, (("Content-Type", "text/plain; charset=utf-8"), *headers), text.encode())
        details: dict[str, Any] = {"messageId": message_id, "text": text}
        if validation_errors:
            details["validationErrors"] = validation_errors
        return self._json(status, {"requestError": {"serviceException": details}}, headers)

    def _bad_request(self, errors: dict[str, list[str]]) -> _Refused:
        return _Refused(self.error(400, "BAD_REQUEST", "Bad request", errors))

    # --- the request ---------------------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, list[str]], body: bytes) -> Reply:
        """Answer one request. `headers` maps lower-case names to every value sent."""
        try:
            return self._handle(method, target, headers, body)
        except _Refused as refused:
            return refused.reply

    def _handle(self, method: str, target: str, headers: Mapping[str, list[str]], body: bytes) -> Reply:
        parts = urlsplit(target)
        ids = self._route(parts.path)
        if ids is None:
            return self.error(404, "NOT_FOUND", "Not found")
        if method != "POST":
            return self.error(405, "METHOD_NOT_ALLOWED", "Method not allowed", headers=(("Allow", "POST"),))
        self._authenticate(headers.get("authorization", []))
        self._throttle(before_validation=True)
        if len(body) > MAX_BODY_BYTES:
            return self.error(413, "PAYLOAD_TOO_LARGE", f"Request body is larger than {MAX_BODY_BYTES} bytes")
        content_type = (headers.get("content-type") or [""])[0]
        if body and not _JSON_TYPES.match(content_type):
            return self.error(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be a JSON media type")
        person_id, definition_id = self._ids(ids)
        identifier_type, create_person = self._query(parts.query)
        event_id, properties, has_properties = self._body(body)
        if definition_id != self.definition_id:
            return self.error(404, "NOT_FOUND", "Event definition not found")
        self._check_properties(properties)
        person = (identifier_type, person_id)
        with self._lock:
            if person not in self.persons:
                creatable = create_person and identifier_type in CREATABLE
                if not (creatable or self._is("unknown-person-created")):
                    return self.error(404, "NOT_FOUND", "Person not found")
                self.persons.add(person)
                self.created_persons.append(person)
            self._throttle(before_validation=False)
            if event_id is not None and not self._is("event-id-stored-twice"):
                for event in self.events:
                    if (event.identifier_type, event.person_id, event.body.get("eventId")) == (*person, event_id):
                        return self._created(event.body)
            recorded = self._record(person, definition_id, event_id, properties if has_properties else None)
        return self._created(recorded)

    def _route(self, path: str) -> tuple[str, str] | None:
        """The raw (still encoded) person and definition ids, when `path` is Send Event's."""
        segments = path.strip("/").split("/")
        if len(segments) != len(self._segments) or not path.startswith("/"):
            return None
        values: dict[str, str] = {}
        for expected, actual in zip(self._segments, segments, strict=True):
            if expected.startswith("{"):
                values[expected.strip("{}")] = actual
            elif expected != actual:
                return None
        return values["personId"], values["definitionId"]

    def _authenticate(self, values: list[str]) -> None:
        if self._is("any-credential-accepted"):
            return
        scheme, _, key = (values[0] if len(values) == 1 else "").partition(" ")
        if scheme.lower() == "app" and key == self.api_key:
            return
        if self._is("wrong-credential-403") and values:
            raise _Refused(self.error(403, "FORBIDDEN", "Forbidden"))
        raise _Refused(self.error(401, "UNAUTHORIZED", "Unauthorized"))

    def _throttle(self, *, before_validation: bool) -> None:
        """The account's rolling-second limit. Counted before validation (every request counts), or, for the
        `limit-counts-valid-only` deviation, only for requests about to store an event."""
        if self._is("no-limit") or before_validation == self._is("limit-counts-valid-only"):
            return
        with self._lock:
            now = self.clock()
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if now < self._penalty_until or len(self._window) >= self._limit:
                if self._is("retry-after-not-honoured") and now >= self._penalty_until:
                    self._penalty_until = now + _PENALTY_SECONDS
                wait = max(1, math.ceil(self._window[0] + 1.0 - now)) if self._window else 1
                headers: tuple[tuple[str, str], ...] = ()
                if not self._is("no-retry-after"):
                    headers = (("Retry-After", "0" if self._is("retry-after-zero") else str(wait)),)
                raise _Refused(self.error(429, "TOO_MANY_REQUESTS", "Too many requests", headers=headers))
            self._window.append(now)

    def _ids(self, raw: tuple[str, str]) -> tuple[str, str]:
        errors: dict[str, list[str]] = {}
        decoded = []
        for name, value in zip(("personId", "definitionId"), raw, strict=True):
            try:
                text = unquote(value, errors="strict")
            except UnicodeDecodeError:
                errors[name] = ["is not percent-encoded UTF-8"]
                text = ""
            if name not in errors and not 1 <= len(text) <= max_length(name):
                errors[name] = [f"must be 1-{max_length(name)} characters"]
            decoded.append(text)
        if errors:
            raise self._bad_request(errors)
        return decoded[0], decoded[1]

    def _query(self, query: str) -> tuple[str, bool]:
        try:
            values = parse_qs(query, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise self._bad_request({"query": ["is not percent-encoded UTF-8"]}) from None
        errors: dict[str, list[str]] = {}
        types = values.get("identifierType", [])
        known = self._is("unknown-identifier-type-accepted") or bool(types and types[0] in self._types)
        if len(types) != 1 or not types[0] or not known:
            errors["identifierType"] = [f"must be one of {', '.join(self._types)}, given once"]
        elif self._is("whatsapp-400") and types[0] == "WHATSAPP":
            errors["identifierType"] = ["WHATSAPP is not supported"]
        create = values.get("createPerson", ["false"])
        if len(create) != 1 or create[0] not in ("true", "false"):
            errors["createPerson"] = ["must be true or false, given once"]
        if errors:
            raise self._bad_request(errors)
        return types[0], create[0] == "true"

    def _body(self, raw: bytes) -> tuple[str | None, Any, bool]:
        """(eventId, properties, whether properties was given) of a valid body."""
        if not raw:
            return None, None, False
        try:
            body = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise self._bad_request({"body": ["is not valid JSON"]}) from None
        if not isinstance(body, dict):
            raise self._bad_request({"body": ["must be a JSON object"]})
        event_id, properties = body.get("eventId"), body.get("properties")
        if event_id is not None and not (
            isinstance(event_id, str) and (self._is("event-id-pattern-ignored") or self._event_id.fullmatch(event_id))
        ):
            raise self._bad_request({"eventId": ["must be 1-36 letters, digits, underscores or hyphens"]})
        if properties is not None and not isinstance(properties, dict):
            raise self._bad_request({"properties": ["must be an object or null"]})
        if "properties" in body and properties is None and self._is("properties-null-500"):
            raise _Refused(self.error(500, "GENERAL_ERROR", "Something went wrong. Please contact support."))
        return event_id, properties, "properties" in body

    def _check_properties(self, properties: Mapping[str, Any] | None) -> None:
        errors: dict[str, list[str]] = {}
        for name, value in (properties or {}).items():
            expected, path = self._fields.get(name), f"properties.{name}"
            if expected is None:
                errors[path] = ["is not a field of the event definition"]
            elif isinstance(expected, dict):
                errors.update(_list_errors(value, expected, path))
            elif value is not None and _kind(value) != expected:
                errors[path] = [f"must be a {expected}"]
        if errors:
            raise self._bad_request(errors)

    def _record(
        self, person: tuple[str, str], definition_id: str, event_id: str | None, properties: Any
    ) -> Mapping[str, Any]:
        now = datetime.now(UTC)
        occurred = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + ("" if self._is("occurred-time-naive") else "Z")
        body: dict[str, Any] = {
            "eventId": event_id or str(uuid.uuid4()),
            "definitionId": "otherDefinition" if self._is("foreign-definition-echoed") else definition_id,
            "occurredTime": occurred,
            "properties": properties,
            "metadata": {"source": "API"},
        }
        self.events.append(StoredEvent(person[0], person[1], body))
        return body

    def _created(self, recorded: Mapping[str, Any]) -> Reply:
        body = dict(recorded)
        if self._is("event-id-missing"):
            body.pop("eventId")
        if self._is("properties-dropped"):
            body["properties"] = None
        return self._json(200 if self._is("created-200") else 201, body)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _list_errors(value: Any, item_fields: Mapping[str, str], path: str) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, list):
        return {path: ["must be a list of objects"]}
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            errors[f"{path}[{index}]"] = ["must be an object"]
            continue
        for name, item_value in item.items():
            expected = item_fields.get(name)
            if expected is None:
                errors[f"{path}[{index}].{name}"] = ["is not a field of the list's items"]
            elif item_value is not None and _kind(item_value) != expected:
                errors[f"{path}[{index}].{name}"] = [f"must be a {expected}"]
    return errors


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; every answer, the parser's own errors too, carries a Content-Length."""

    protocol_version = "HTTP/1.1"
    #: Headers and body go out in two writes: without TCP_NODELAY, Nagle and delayed ACKs stall each answer ~40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        length_header = self.headers.get("Content-Length", "0")
        if not length_header.isdigit():
            self._reply(self.server.service.error(400, "BAD_REQUEST", "Bad Content-Length"))
            return
        body = self.rfile.read(int(length_header))
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        self._reply(self.server.service.handle(self.command, self.path, headers, body))

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def _reply(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The parser's own errors (a malformed request line, headers too long) in the JSON envelope too."""
        self.close_connection = True
        self._reply(self.server.service.error(code, "BAD_REQUEST", message or "Bad request"))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a burst of hundreds of requests must not flood the test output."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    #: The rate-limit probe opens dozens of connections at once; the default backlog of 5 would drop SYNs.
    request_queue_size = 128
    service: IndependentServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops its connection is normal (a run that ends mid-burst): no traceback for it."""
        if not isinstance(sys.exception(), ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(service: IndependentServer, *, port: int = 0) -> Iterator[str]:
    """Serve `service` on 127.0.0.1 in a background thread; yield its base URL; stop on exit."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.service = service
    thread = threading.Thread(target=server.serve_forever, name=f"independent-{service.variant.name}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
