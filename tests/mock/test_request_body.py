"""413, 415 and the 400s for bodies Python's json module would choke on or let through."""

from __future__ import annotations

import json

import pytest

from people_events_mock.request_checks import is_json_media_type
from people_events_mock.spec import default_spec
from people_events_mock.state import MockState
from people_events_mock.strict_json import InvalidJson, parse_json
from tests.support.mock_api import Sender, service_exception
from tests.support.spec import assert_conforms

JSON = {"Content-Type": "application/json"}


def padded_body(size: int) -> bytes:
    """A valid body of exactly `size` bytes (a long transactionId)."""
    empty = json.dumps({"properties": {"transactionId": ""}}).encode()
    body = json.dumps({"properties": {"transactionId": "x" * (size - len(empty))}}).encode()
    assert len(body) == size
    return body


async def test_body_over_512000_bytes_gets_413(send: Sender, state: MockState) -> None:
    response = await send(content=padded_body(default_spec().max_body_bytes + 1), headers=JSON)
    assert response.status_code == 413
    assert_conforms(response)
    assert service_exception(response)["messageId"] == "PAYLOAD_TOO_LARGE"
    assert state.store.events() == []


async def test_body_of_exactly_512000_bytes_is_accepted(send: Sender) -> None:
    response = await send(content=padded_body(default_spec().max_body_bytes), headers=JSON)
    assert response.status_code == 201


async def test_declared_content_length_over_the_limit_gets_413_without_reading(send: Sender) -> None:
    response = await send(content=None, headers={**JSON, "Content-Length": str(default_spec().max_body_bytes + 1)})
    assert response.status_code == 413


async def test_oversized_body_of_wrong_type_gets_413_not_415(send: Sender) -> None:
    """413 comes before 415 in the check order."""
    response = await send(content=b"x" * (default_spec().max_body_bytes + 1), headers={"Content-Type": "text/plain"})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
        "APPLICATION/JSON",
        "text/json",
        "application/vnd.infobip+json",
        "application/problem+json; charset=utf-8",
        "application/json-patch+json",
    ],
)
async def test_json_media_types_are_accepted(send: Sender, content_type: str) -> None:
    response = await send(content=b'{"properties": null}', headers={"Content-Type": content_type})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonx",
        "json",
        "application/json; charset=utf-16",
        "application/json; charset=latin-1",
        "",
    ],
    ids=str,
)
async def test_non_json_body_gets_415(send: Sender, state: MockState, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = await send(content=b'{"properties": null}', headers=headers)
    assert response.status_code == 415
    assert_conforms(response)
    assert service_exception(response)["messageId"] == "UNSUPPORTED_MEDIA_TYPE"
    assert state.store.events() == []


async def test_empty_body_with_any_content_type_is_no_body(send: Sender) -> None:
    response = await send(content=b"", headers={"Content-Type": "text/plain"})
    assert response.status_code == 201


BAD_BODIES: list[tuple[str, bytes]] = [
    ("malformed", b"{"),
    ("truncated", b'{"properties": {"totalCost": 1'),
    ("trailing-garbage", b"{} x"),
    ("single-quotes", b"{'properties': null}"),
    ("whitespace-only", b"   "),
    ("array", b"[]"),
    ("string", b'"properties"'),
    ("number", b"42"),
    ("null", b"null"),
    ("true", b"true"),
    ("deep-nesting", b"[" * 10_000 + b"]" * 10_000),
    ("deep-nesting-in-properties", b'{"properties": {"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}}"),
    ("huge-integer", b'{"properties": {"totalCost": ' + b"9" * 10_000 + b"}}"),
    ("nan", b'{"properties": {"totalCost": NaN}}'),
    ("infinity", b'{"properties": {"totalCost": Infinity}}'),
    ("minus-infinity", b'{"properties": {"totalCost": -Infinity}}'),
    ("float-overflow", b'{"properties": {"totalCost": 1e999}}'),
    ("duplicate-keys", b'{"properties": {"totalCost": 1, "totalCost": 2}}'),
    ("duplicate-top-level-keys", b'{"eventId": "a", "eventId": "b"}'),
    ("invalid-utf8", b'{"properties": {"transactionId": "\xff\xfe"}}'),
    ("overlong-utf8", b'{"properties": {"transactionId": "\xc0\xaf"}}'),
    ("utf16", '{"properties": null}'.encode("utf-16")),
    ("raw-nul-in-string", b'{"properties": {"transactionId": "a\x00b"}}'),
    ("raw-newline-in-string", b'{"properties": {"transactionId": "a\nb"}}'),
    ("lone-surrogate", b'{"properties": {"transactionId": "\\ud800"}}'),
    ("lone-surrogate-key", b'{"properties": {"\\udfff": 1}}'),
    ("nul-byte-body", b"\x00"),
    ("comment", b"{/* c */}"),
]


@pytest.mark.parametrize("body", [body for _, body in BAD_BODIES], ids=[name for name, _ in BAD_BODIES])
async def test_bad_json_gets_400_in_the_envelope(send: Sender, state: MockState, body: bytes) -> None:
    response = await send(content=body, headers=JSON, query="identifierType=EMAIL&createPerson=true")
    assert response.status_code == 400
    assert_conforms(response)
    details = service_exception(response)
    assert details["messageId"] == "BAD_REQUEST"
    assert "body" in details["validationErrors"]
    assert state.store.events() == []


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("bom", b'\xef\xbb\xbf{"properties": null}'),
        ("escaped-nul", b'{"properties": {"transactionId": "a\\u0000b"}}'),
        ("surrogate-pair", b'{"properties": {"transactionId": "\\ud83d\\ude00"}}'),
        ("unknown-top-level-field", b'{"properties": null, "extra": 1}'),
        ("big-but-legal-integer", b'{"properties": {"totalCost": ' + b"9" * 4000 + b"}}"),
        ("exponent", b'{"properties": {"totalCost": 1e3}}'),
        ("whitespace-around", b'  \r\n{"properties": null}\n  '),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
async def test_odd_but_legal_json_is_accepted(send: Sender, name: str, body: bytes) -> None:
    response = await send(content=body, headers=JSON)
    assert response.status_code == 201, response.text
    assert_conforms(response)


def test_parse_json_rejects_nan_and_infinity_tokens() -> None:
    for token in ["NaN", "Infinity", "-Infinity"]:
        with pytest.raises(InvalidJson):
            parse_json(token.encode())


def test_parse_json_accepts_the_seed() -> None:
    assert parse_json(b'{"a": [1, 2.5, "x", true, null]}') == {"a": [1, 2.5, "x", True, None]}


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("text/json; charset=us-ascii", True),
        ("application/merge-patch+json", True),
        ("application/json; version=2", True),
        ("application/+json", False),
        ("text/plain; charset=utf-8", False),
        ("application/json; charset=utf-16le", False),
    ],
)
def test_is_json_media_type(content_type: str, expected: bool) -> None:
    assert is_json_media_type(content_type) is expected
