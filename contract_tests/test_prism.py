"""Independent cross-checks with Stoplight Prism, a tool nobody here wrote.

- ``prism proxy openapi.yaml`` in front of the served mock: the client's valid traffic (every identifier
  type, every error the server may answer, a 429) and schemathesis's positive traffic draw no
  violation, neither of the request nor of the response.
- ``prism proxy`` with Infobip's own published spec in front of the mock: the client's requests are valid
  against the real API's contract (see `official_spec` for the one patch it needs).
- ``prism mock openapi.yaml``: the client succeeds for the seed sample, and raises its typed error for the
  example of every documented error status.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import hypothesis
import pytest
from hypothesis import HealthCheck, Phase
from schemathesis import Case, GenerationMode

from people_events_client import (
    AuthenticatedClient,
    BadRequest,
    EventProperties,
    EventRequest,
    EventResponse,
    Forbidden,
    IdentifierType,
    NotFound,
    PeopleEvents,
    PeopleEventsError,
    RateLimited,
    Unauthorized,
)
from people_events_client.api.events import send_custom_event
from people_events_mock import create_app
from people_events_mock.testing import serve

from .fuzzing import load_schema
from .outcomes import expected_error
from .prism import PrismServer, run_prism, violation_lines, violations
from .report import curl_for
from .spec import REPO_ROOT, SEND_EVENT_PATH, SPEC_PATH, documented_statuses, seed_properties, send_event_operation
from .targets import MOCK_API_KEY, mock_seeds

# Module-scoped, so that it skips before the module-scoped servers below are started.
pytestmark = [pytest.mark.prism, pytest.mark.usefixtures("mock_target_only_module")]

OFFICIAL_SPEC: Final = REPO_ROOT / "contract_tests" / "reference" / "infobip-people-events.official.json"
#: The nodes of the official spec typed `additionalProperties: {type: object}` that its own example violates.
OFFICIAL_DEFECTS: Final = {
    "EventResourceRequest.properties",
    "EventResourceResponse.properties",
    "EventResourceResponse.metadata",
}
POSITIVE_EXAMPLES: Final = 60
#: The upstream mock's limit for accounts A and B: low, so that a burst through Prism (a few ms per request)
#: reaches it well within one second. The client paces account A to it; B's unpaced burst gets the 429.
UPSTREAM_RATE: Final = 40
#: Every documented error status, with the class the client raises for it.
ERROR_STATUSES: Final = [(status, expected_error(status)) for status in documented_statuses() if status >= 400]


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """The reference mock, served on loopback for the Prism proxies (accounts A and B: UPSTREAM_RATE/s)."""
    with serve(create_app(rate_limit=UPSTREAM_RATE)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def prism_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prism")


@pytest.fixture(scope="module")
def proxy(upstream: str, prism_logs: Path) -> Iterator[PrismServer]:
    """``prism proxy openapi.yaml <mock>``."""
    with run_prism(["proxy", str(SPEC_PATH), upstream], prism_logs / "proxy.log") as server:
        yield server


@pytest.fixture(scope="module")
def official_spec(prism_logs: Path) -> Path:
    """A copy of Infobip's official spec with its one known defect relaxed, made for this run.

    The patch: each `additionalProperties: {type: object}` of a `properties` or `metadata` node
    (EventResourceRequest.properties, EventResourceResponse.properties and .metadata) becomes
    `additionalProperties: true`, i.e. free-form values. As published, every value of `properties` must
    be an object, which the spec's own request example violates (`"transactionId": "my-transaction-1"`),
    and which no real event meets. Nothing else is changed; if the defect moves, this fixture fails.
    """
    document = json.loads(OFFICIAL_SPEC.read_text())
    patched: set[str] = set()
    for name, schema in document["components"]["schemas"].items():
        for field in ("properties", "metadata"):
            node = schema.get("properties", {}).get(field)
            if isinstance(node, dict) and node.get("additionalProperties") == {"type": "object"}:
                node["additionalProperties"] = True
                patched.add(f"{name.rsplit('.', 1)[-1]}.{field}")
    assert patched == OFFICIAL_DEFECTS, f"the official spec's defect moved: patched {sorted(patched)}"
    path = prism_logs / "infobip-people-events.patched.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(scope="module")
def official_proxy(upstream: str, official_spec: Path, prism_logs: Path) -> Iterator[PrismServer]:
    """``prism proxy <official spec, patched> <mock>``."""
    with run_prism(["proxy", str(official_spec), upstream], prism_logs / "official-proxy.log") as server:
        yield server


@pytest.fixture(scope="module")
def prism_mock(prism_logs: Path) -> Iterator[PrismServer]:
    """``prism mock openapi.yaml``: answers from the spec's examples."""
    with run_prism(["mock", str(SPEC_PATH)], prism_logs / "mock.log") as server:
        yield server


class RecordingTransport(httpx.BaseTransport):
    """The real transport, keeping every exchange so that Prism's annotations can be read."""

    def __init__(self, prefer_status: int | None = None) -> None:
        self._inner = httpx.HTTPTransport()
        self._prefer = prefer_status
        self._lock = threading.Lock()
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._prefer is not None:
            request.headers["Prefer"] = f"code={self._prefer}"
        response = self._inner.handle_request(request)
        response.read()
        with self._lock:
            self.exchanges.append((request, response))
        return response

    def close(self) -> None:
        self._inner.close()

    def annotated(self, location: str | None = None) -> list[str]:
        """Each exchange whose response carries violations (under `location`), as curl plus violations."""
        found = []
        for request, response in self.exchanges:
            flagged = violations(response.headers, location)
            if flagged:
                curl = curl_for(request.method, str(request.url), request.headers.multi_items(), request.content)
                found.append(f"{curl} -> {response.status_code}: {flagged}")
        return found


def _client(
    base_url: str, recorder: RecordingTransport, api_key: str = MOCK_API_KEY, *, rate_limit: int | None = None
) -> PeopleEvents:
    return PeopleEvents(
        base_url,
        api_key,
        rate_limit=rate_limit,
        rate_limit_key=f"contract-prism-{api_key}",
        max_retries=0,
        http_client_args={"transport": recorder},
    )


def send_client_traffic(base_url: str, recorder: RecordingTransport, *, with_429: bool) -> set[int]:
    """The client's valid traffic: a 201 for every identifier type and body shape, a replay, createPerson, and
    the server's 400, 401, 403 and 404 (and a 429 if asked). Returns the statuses seen."""
    with _client(base_url, recorder, rate_limit=UPSTREAM_RATE) as people:
        for identifier_type, person_id in mock_seeds().persons:
            people.send(person_id, "addToCart", identifier_type=identifier_type, properties=seed_properties())
        people.send("1001", "addToCart", identifier_type="ID")
        replayed = f"prism-{uuid.uuid4().hex[:20]}"
        people.send("1001", "addToCart", identifier_type="ID", event_id=replayed, properties={"totalCost": 1.5})
        people.send("1001", "addToCart", identifier_type="ID", event_id=replayed, properties={"totalCost": 1.5})
        people.send(f"+4179{uuid.uuid4().int % 10**7:07d}", "addToCart", identifier_type="PHONE", create_person=True)
        rejected: list[tuple[str, str, str, dict[str, Any] | None]] = [
            (f"nobody-{uuid.uuid4().hex}", "addToCart", "EXTERNAL_ID", None),
            ("1001", "noSuchDefinition", "ID", None),
            ("1001", "addToCart", "ID", {"totalCost": "a lot", "colour": "red"}),
        ]
        for person_id, definition_id, identifier_type, properties in rejected:
            with pytest.raises((NotFound, BadRequest)):
                people.send(person_id, definition_id, identifier_type=identifier_type, properties=properties)
    for api_key, error in (("contract-tests-wrong-key", Unauthorized), ("mock-readonly-key", Forbidden)):
        with _client(base_url, recorder, api_key) as people, pytest.raises(error):
            people.send("1001", "addToCart", identifier_type="ID")
    if with_429:
        with _client(base_url, recorder, "mock-api-key-b") as people:
            for _ in range(UPSTREAM_RATE):
                people.send("1001", "addToCart", identifier_type="ID")
            with pytest.raises(RateLimited):
                people.send("1001", "addToCart", identifier_type="ID")
    return {response.status_code for _, response in recorder.exchanges}


@pytest.mark.slow
def test_client_traffic_through_prism_proxy_draws_no_violation(proxy: PrismServer) -> None:
    """Prism, proxying with openapi.yaml, finds every request of the client and every answer of the mock
    (201, 400, 401, 403, 404, 429) valid: no sl-violations header, no Violation line in its log."""
    recorder = RecordingTransport()
    statuses = send_client_traffic(proxy.base_url, recorder, with_429=True)
    assert statuses == {201, 400, 401, 403, 404, 429}
    assert recorder.annotated() == []
    assert violation_lines(proxy.settled_log(len(recorder.exchanges))) == []


def test_schemathesis_positive_traffic_through_prism_proxy_draws_no_violation(proxy: PrismServer) -> None:
    """Schemathesis's positive cases (seeded as in the suite), sent through Prism's openapi.yaml proxy, draw
    no violation: the generator, Prism and the mock agree on what is valid."""
    operation = load_schema()[SEND_EVENT_PATH]["POST"]
    flagged: list[str] = []
    sent = 0

    @hypothesis.settings(
        max_examples=POSITIVE_EXAMPLES,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def run(case: Case[Any]) -> None:
        nonlocal sent
        response = case.call(base_url=proxy.base_url)
        sent += 1
        found = violations({k: ", ".join(v) for k, v in response.headers.items()})
        if found:
            flagged.append(f"{case.as_curl_command(base_url=proxy.base_url)} -> {response.status_code}: {found}")

    run()
    assert flagged == []
    assert violation_lines(proxy.settled_log(sent)) == []


def test_client_requests_are_valid_against_infobips_official_spec(official_proxy: PrismServer) -> None:
    """Prism, proxying with Infobip's own spec (patched, see `official_spec`), finds no request violation in the
    client's traffic: neither in the sl-violations header nor as a `Violation: request` log line."""
    recorder = RecordingTransport()
    send_client_traffic(official_proxy.base_url, recorder, with_429=False)
    assert recorder.annotated(location="request") == []
    assert violation_lines(official_proxy.settled_log(len(recorder.exchanges)), location="request") == []


def _seed_example() -> dict[str, Any]:
    example: dict[str, Any] = send_event_operation()["responses"]["201"]["content"]["application/json"]["examples"][
        "seed"
    ]["value"]
    return example


def test_generated_client_against_prism_mock_succeeds_for_the_seed_sample(prism_mock: PrismServer) -> None:
    """Prism's mock validates the seed request of the facade and of the bare generated client, and both parse
    its answer, the spec's 201 example."""
    expected = _seed_example()
    with PeopleEvents(prism_mock.base_url, "any-key", rate_limit=None, max_retries=0) as people:
        event = people.send(
            "jane.doe@example.com",
            "addToCart",
            identifier_type="EMAIL",
            properties=seed_properties(),
            event_id=expected["eventId"],  # Prism answers the example, whose eventId the client must have sent
        )
    assert (event.event_id, event.definition_id) == (expected["eventId"], expected["definitionId"])
    assert isinstance(event.properties, EventProperties)
    assert event.properties.to_dict() == expected["properties"]

    client = AuthenticatedClient(base_url=prism_mock.base_url, token="any-key", prefix="App")
    response = send_custom_event.sync_detailed(
        "jane.doe@example.com",
        "addToCart",
        client=client,
        identifier_type=IdentifierType.EMAIL,
        body=EventRequest(properties=EventProperties.from_dict(seed_properties())),
    )
    assert response.status_code == 201, response.content
    assert isinstance(response.parsed, EventResponse)
    assert response.parsed.event_id == expected["eventId"]


@pytest.mark.parametrize(("status", "error"), ERROR_STATUSES, ids=[str(status) for status, _ in ERROR_STATUSES])
def test_client_raises_its_typed_error_for_prism_mock_examples(
    prism_mock: PrismServer, status: int, error: type[PeopleEventsError]
) -> None:
    """Asked for each documented error (``Prefer: code=...``), Prism's mock answers with the spec's example,
    and the facade raises its typed error carrying the example's messageId."""
    recorder = RecordingTransport(prefer_status=status)
    with _client(prism_mock.base_url, recorder, "any-key") as people, pytest.raises(error) as raised:
        people.send("jane.doe@example.com", "addToCart", identifier_type="EMAIL")
    example = send_event_operation()["responses"][str(status)]["content"]["application/json"]["example"]
    assert type(raised.value) is error
    assert raised.value.status == status
    assert raised.value.message_id == example["requestError"]["serviceException"]["messageId"]
