"""The generated client and its facade follow openapi.yaml: behavioural checks, the facade sending to an
httpx.MockTransport."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime
from typing import Any, Final

import httpx

import people_events_client
from people_events_client import EventResponse, PeopleEvents, PeopleEventsError

from ..spec import (
    echo_event_id,
    error_detail_fields,
    identifier_types,
    info_version,
    request_fields,
    resolve,
    same_event,
    seed_response_example,
    send_event_operation,
)
from .core import Check, Drift, overlay_source, snake_case

__all__ = ["CLIENT_CHECKS"]

_BASE_URL: Final = "https://api.infobip.com"


class _Recorder:
    """An httpx.MockTransport body: records each request and answers with a canned response (a 201 records the
    eventId sent, as a server does)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=echo_event_id(self.status, self.body, request), headers=self.headers)


def _facade(recorder: _Recorder) -> PeopleEvents:
    transport = httpx.MockTransport(recorder)
    return PeopleEvents(
        _BASE_URL, "sync-check-key", rate_limit=None, max_retries=0, http_client_args={"transport": transport}
    )


def _definition_id() -> str:
    return str(seed_response_example()["definitionId"])


def _send(recorder: _Recorder, **keywords: Any) -> EventResponse | PeopleEventsError:
    """One send through the facade to `recorder`; the event, or the error it raised."""
    keywords.setdefault("identifier_type", identifier_types()[0])
    with _facade(recorder) as people:
        try:
            return people.send("sync-check-person", _definition_id(), **keywords)
        except PeopleEventsError as error:
            return error


def _created() -> _Recorder:
    return _Recorder(201, seed_response_example())


def _sample_value(field: str) -> Any:
    """A valid value of a request field: the schema's example, else one of the request examples', else by type."""
    media = send_event_operation()["requestBody"]["content"]["application/json"]
    schema = resolve(media["schema"])["properties"][field]
    if "example" in schema:
        return schema["example"]
    for example in media["examples"].values():
        if field in example["value"]:
            return example["value"][field]
    kind = next((t for t in _types(schema) if t != "null"), "string")
    if kind == "string":
        return datetime.now(UTC).isoformat() if schema.get("format") == "date-time" else "sync-check"
    return {"integer": 1, "number": 1.5, "boolean": True, "object": {}, "array": []}.get(kind)


def _types(schema: dict[str, Any]) -> list[str]:
    kinds = schema.get("type", [])
    found = list(kinds) if isinstance(kinds, list) else [kinds]
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += _types(option)
    return found


def _facade_file() -> str:
    return overlay_source(PeopleEvents)


def _keywords() -> dict[str, set[str]]:
    """The keyword parameters of each facade's send()."""
    from people_events_client import AsyncPeopleEvents

    return {
        f"{facade.__name__}.send()": set(inspect.signature(facade.send).parameters)
        for facade in (PeopleEvents, AsyncPeopleEvents)
    }


def _facade_sends_every_request_field() -> list[Drift]:
    drifts = []
    for field in request_fields():
        keyword = snake_case(field)
        lacking = [name for name, keywords in _keywords().items() if keyword not in keywords]
        if lacking:
            drifts.append(
                Drift(
                    _facade_file(),
                    f"{' and '.join(lacking)} cannot send `{field}`, a field of openapi.yaml's request body: add a "
                    f"`{keyword}=` keyword, or the field never reaches the server",
                )
            )
            continue
        recorder, value = _created(), _sample_value(field)
        outcome = _send(recorder, **{keyword: value})
        sent = json.loads(recorder.requests[-1].content) if recorder.requests else {}
        if isinstance(outcome, PeopleEventsError) or sent.get(field) != value:
            drifts.append(
                Drift(_facade_file(), f"send({keyword}={value!r}) does not send `{field}`: the body was {sent}")
            )
    return drifts


def _facade_sends_every_query_parameter() -> list[Drift]:
    drifts = []
    for parameter in send_event_operation()["parameters"]:
        if parameter["in"] != "query":
            continue
        keyword = snake_case(parameter["name"])
        lacking = [name for name, keywords in _keywords().items() if keyword not in keywords]
        if lacking:
            drifts.append(
                Drift(
                    _facade_file(),
                    f"{' and '.join(lacking)} cannot send the query parameter `{parameter['name']}`: add `{keyword}=`",
                )
            )
    for value in identifier_types():
        recorder = _created()
        try:
            _send(recorder, identifier_type=value)
        except ValueError as error:
            drifts.append(Drift("generated/", f"identifierType {value} is refused ({error}): run `make regenerate`"))
            continue
        sent = recorder.requests[-1].url.params.get("identifierType") if recorder.requests else None
        if sent != value:
            drifts.append(Drift(_facade_file(), f"send(identifier_type={value!r}) sent identifierType={sent!r}"))
    return drifts


def _facade_parses_every_documented_response() -> list[Drift]:
    drifts = []
    outcome = _send(_created(), event_id=seed_response_example()["eventId"])
    if not isinstance(outcome, EventResponse) or not same_event(seed_response_example(), outcome.to_dict()):
        drifts.append(Drift(_facade_file(), f"the spec's 201 example does not come back from send(): {outcome!r}"))
    errors_file = overlay_source(PeopleEventsError)
    for status, response in send_event_operation()["responses"].items():
        example = response["content"]["application/json"].get("example")
        if status.startswith("2") or example is None:
            continue
        headers = {name: str(h.get("example", "")) for name, h in response.get("headers", {}).items()}
        raised = _send(_Recorder(int(status), example, headers))
        if not isinstance(raised, PeopleEventsError) or raised.status != int(status):
            drifts.append(Drift(errors_file, f"a documented {status} did not raise PeopleEventsError: {raised!r}"))
            continue
        details = example["requestError"]["serviceException"]
        for field in error_detail_fields():
            if getattr(raised, snake_case(field), None) != details.get(field):
                drifts.append(
                    Drift(
                        errors_file,
                        f"PeopleEventsError.{snake_case(field)} must carry `{field}`, a required field of Infobip's "
                        f"error envelope in openapi.yaml (the {status} example's is {details.get(field)!r})",
                    )
                )
    return drifts


def _package_version_is_the_spec_version() -> list[Drift]:
    version = people_events_client.__version__
    if version == info_version() or version.startswith((f"{info_version()}.", f"{info_version()}+")):
        return []
    return [
        Drift(
            "codegen/templates/",
            f"people_events_client.__version__ is {version}, not openapi.yaml's info.version {info_version()} "
            "(plus a release suffix); then run `make regenerate`",
        )
    ]


CLIENT_CHECKS: Final = (
    Check("facade-sends-every-request-field", _facade_sends_every_request_field, _facade_file),
    Check("facade-sends-every-query-parameter", _facade_sends_every_query_parameter, _facade_file),
    Check("facade-parses-every-documented-response", _facade_parses_every_documented_response, _facade_file),
    Check("package-version-is-the-spec-version", _package_version_is_the_spec_version, _facade_file),
)
