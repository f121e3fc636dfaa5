"""The bad-input catalogue (TESTING.md): every row, in-process and over a socket, gets its documented status as
JSON in Infobip's envelope, and a rejected request stores nothing and creates no person."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from people_events_mock import create_app, mock_state
from people_events_mock.errors import MESSAGE_IDS
from people_events_mock.request_checks import decode_path_segment
from people_events_mock.spec import default_spec
from people_events_mock.state import MockState
from people_events_mock.store import PersonKey
from people_events_mock.testing import serve
from tests.support.mock_api import service_exception
from tests.support.rawhttp import RawResponse, asgi_request, socket_exchange
from tests.support.spec import assert_conforms

from .catalogue import DEFAULT_PERSON, Row, load_rows, parse_input

ROWS = load_rows()
DOCUMENTED_STATUSES = {201, 400, 401, 403, 404, 413, 415}
CASES = [
    pytest.param(row, transport, id=f"{row.id}-{transport}")
    for row in ROWS
    for transport in ("in-process", "socket")
    if transport == "socket" or not row.request.socket_only
]
# The issue's list of inputs, each of which must have a row.
REQUIRED_ROWS = [
    "malformed-json", "truncated-json", "json-array", "nesting-10000-arrays", "integer-10000-digits", "nan-token",
    "infinity-token", "duplicate-property-keys", "invalid-utf8", "utf8-bom", "nul-byte-in-string",
    "content-type-missing", "content-type-text-plain", "charset-utf8", "charset-utf16", "body-511999-bytes",
    "body-512001-bytes", "person-empty", "person-10000-characters", "person-encoded-dot-dot", "person-encoded-slash",
    "person-encoded-crlf", "person-raw-crlf", "person-lookalike-fullwidth-at", "query-unknown-parameter",
    "identifier-type-repeated", "identifier-type-lower-case", "auth-basic-not-base64", "auth-wrong-scheme",
    "auth-huge-value", "create-person-yes",
]  # fmt: skip


@pytest.fixture(scope="module")
def inprocess_app() -> Starlette:
    return create_app()


@pytest.fixture(scope="module")
def served_app() -> Iterator[tuple[Starlette, str]]:
    app = create_app()
    with serve(app) as base_url:
        yield app, base_url


def _created_persons(state: MockState, row: Row) -> list[PersonKey]:
    """Persons named by the request (or the default) that exist now, in any account and identifier type."""
    candidates = {DEFAULT_PERSON, decode_path_segment(row.request.person)} - {None}
    return [
        key
        for account in state.store.accounts()
        for identifier_type in default_spec().identifier_types
        for person_id in candidates
        if person_id is not None and state.store.has_person(key := PersonKey(account, identifier_type, person_id))
    ]


def _check_response(row: Row, response: RawResponse) -> None:
    assert response.status == row.expected_status, f"{row.id}: {response.status} {response.body[:300]!r}"
    assert response.media_type == "application/json", f"{row.id}: {response.headers}"
    as_httpx = httpx.Response(response.status, headers=response.headers, content=response.body)
    assert_conforms(as_httpx)
    if row.expected_status != 201:
        assert service_exception(as_httpx)["messageId"] == MESSAGE_IDS[row.expected_status]


def _check_state(row: Row, state: MockState, admin_count: int) -> None:
    stored = state.store.events()
    assert admin_count == len(stored)
    if row.expected_status == 201:
        assert len(stored) == 1
        return
    assert stored == [], f"{row.id}: a rejected request stored {stored}"
    assert _created_persons(state, row) == [], f"{row.id}: a rejected request created a person"


@pytest.mark.parametrize(("row", "transport"), CASES)
async def test_bad_input_gets_its_documented_status(
    row: Row, transport: str, inprocess_app: Starlette, served_app: tuple[Starlette, str]
) -> None:
    if transport == "in-process":
        app = inprocess_app
        mock_state(app).reset()
        request = row.request
        query = request.query.encode("ascii")
        response = await asgi_request(
            app, "POST", request.raw_path(), query, request.header_list(), request.body or b""
        )
        admin = await asgi_request(app, "GET", b"/_mock/events")
    else:
        app, base_url = served_app
        mock_state(app).reset()
        host, port = base_url.removeprefix("http://").rsplit(":", 1)
        response = socket_exchange(host, int(port), row.request.http_bytes(f"{host}:{port}"))
        admin_request = f"GET /_mock/events HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
        admin = socket_exchange(host, int(port), admin_request)
    _check_response(row, response)
    _check_state(row, mock_state(app), admin.json()["count"])


def test_catalogue_has_40_distinct_rows_with_documented_statuses() -> None:
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids)), "row ids are unique"
    assert len({row.input for row in ROWS}) == len(ROWS), "inputs are distinct"
    assert len(ROWS) >= 40
    assert {row.expected_status for row in ROWS} <= DOCUMENTED_STATUSES
    assert all(row.why for row in ROWS)


def test_catalogue_covers_every_input_the_issue_lists() -> None:
    assert sorted(set(REQUIRED_ROWS) - {row.id for row in ROWS}) == []


@pytest.mark.parametrize(
    "text",
    ["body=__import__('os')", "body=open('x')", "'positional'", "colour='red'", "person='a b'", "person='ä'"],
)
def test_catalogue_inputs_are_literals_only(text: str) -> None:
    with pytest.raises(ValueError, match=r"not allowed|keyword|printable"):
        parse_input(text)


@pytest.mark.slow
def test_cli_server_answers_unparseable_http_with_the_json_envelope() -> None:
    """`python -m people_events_mock` uses the same protocol as `serve`: its parser's 400s are JSON too."""
    from people_events_mock.testing import mock_process

    rows = {row.id: row for row in ROWS}
    with mock_process() as mock:
        for row_id in ["person-raw-crlf", "header-name-with-space", "auth-over-head-limit"]:
            request = rows[row_id].request.http_bytes(f"127.0.0.1:{mock.port}")
            response = socket_exchange("127.0.0.1", mock.port, request)
            assert (response.status, response.media_type) == (400, "application/json")
            assert response.json() == {
                "requestError": {"serviceException": {"messageId": "BAD_REQUEST", "text": "Invalid HTTP request"}}
            }
