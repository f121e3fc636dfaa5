"""The bad-input catalogue of TESTING.md: parse its table into requests.

Each row's input column holds keyword arguments over a default request. They are Python literals, read with
`ast` and a tiny evaluator that knows literals, ``+``, ``*``, lists and tuples, and ``padded(n)``; nothing is
``eval``-ed.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

TESTING_MD = Path(__file__).resolve().parents[2] / "TESTING.md"
SECTION = "## Bad-input catalogue"
HEADER = ["id", "input", "expected status", "why"]

DEFAULT_PERSON = "catalogue-person"
DEFAULT_DEFINITION = "addToCart"
DEFAULT_QUERY = "identifierType=EXTERNAL_ID&createPerson=true"
DEFAULT_EVENT_ID = "catalogue-1"
DEFAULT_BODY = json.dumps({"eventId": DEFAULT_EVENT_ID, "properties": {"totalCost": 1}}).encode()
DEFAULT_AUTH = "App mock-api-key"
DEFAULT_CONTENT_TYPE = "application/json"

_SOCKET_ONLY = frozenset({"raw_person", "raw_header"})
_KEYWORDS = frozenset(
    {"person", "definition", "path", "query", "body", "content_type", "auth", "headers", *_SOCKET_ONLY}
)
# What may appear in a path segment or query that both transports send unchanged: printable ASCII, no space.
_PLAIN = re.compile(r"[!-~]*")


def padded(size: int) -> bytes:
    """A valid Send Event body of exactly `size` bytes (a long transactionId)."""
    empty = json.dumps({"eventId": DEFAULT_EVENT_ID, "properties": {"transactionId": ""}}).encode()
    body = json.dumps({"eventId": DEFAULT_EVENT_ID, "properties": {"transactionId": "x" * (size - len(empty))}})
    encoded = body.encode()
    assert len(encoded) == size
    return encoded


@dataclass(frozen=True, slots=True)
class CatalogueRequest:
    """One request of the catalogue: the default with a row's keywords applied."""

    person: str = DEFAULT_PERSON
    definition: str = DEFAULT_DEFINITION
    path: str | None = None
    query: str = DEFAULT_QUERY
    body: bytes | None = DEFAULT_BODY
    content_type: str | None = DEFAULT_CONTENT_TYPE
    auth: str | None = DEFAULT_AUTH
    headers: tuple[tuple[str, str], ...] = ()
    raw_person: bytes | None = None
    raw_header: bytes | None = None

    @property
    def socket_only(self) -> bool:
        """Whether the request can exist only as bytes on a socket (the ASGI scope cannot carry it)."""
        return self.raw_person is not None or self.raw_header is not None

    def raw_path(self) -> bytes:
        if self.path is not None:
            return self.path.encode("ascii")
        person = self.raw_person if self.raw_person is not None else self.person.encode("ascii")
        return b"/peopleevents/2/persons/" + person + b"/definitions/" + self.definition.encode("ascii") + b"/events"

    def header_list(self) -> list[tuple[bytes, bytes]]:
        """The headers as sent (Content-Length computed unless a row gives its own)."""
        headers: list[tuple[bytes, bytes]] = []
        if self.auth is not None:
            headers.append((b"authorization", self.auth.encode("latin-1")))
        if self.content_type is not None:
            headers.append((b"content-type", self.content_type.encode("latin-1")))
        if not any(name.lower() == "content-length" for name, _ in self.headers):
            headers.append((b"content-length", str(len(self.body or b"")).encode("ascii")))
        headers.extend((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers)
        return headers

    def http_bytes(self, host: str) -> bytes:
        """The whole request as bytes on the wire, with ``Connection: close``."""
        target = self.raw_path() + (b"?" + self.query.encode("ascii") if self.query else b"")
        lines = [b"POST " + target + b" HTTP/1.1", b"Host: " + host.encode("ascii"), b"Connection: close"]
        lines += [name + b": " + value for name, value in self.header_list()]
        if self.raw_header is not None:
            lines.append(self.raw_header)
        return b"\r\n".join(lines) + b"\r\n\r\n" + (self.body or b"")


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the catalogue table."""

    id: str
    input: str
    expected_status: int
    why: str
    request: CatalogueRequest = field(compare=False)


def _value(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str | bytes | int)):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mult):
        left, right = _value(node.left), _value(node.right)
        return left + right if isinstance(node.op, ast.Add) else left * right
    if isinstance(node, ast.List | ast.Tuple):
        return tuple(_value(element) for element in node.elts)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "padded"
        and len(node.args) == 1
        and not node.keywords
    ):
        return padded(_value(node.args[0]))
    raise ValueError(f"not allowed in a catalogue input: {ast.unparse(node)}")


def parse_input(text: str) -> CatalogueRequest:
    """Apply a row's keyword arguments (``body=b'{'``, ``auth=None``, ...) to the default request."""
    call = ast.parse(f"request({text})", mode="eval").body
    assert isinstance(call, ast.Call)
    if call.args:
        raise ValueError("catalogue inputs are keyword arguments only")
    changes: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg not in _KEYWORDS:
            raise ValueError(f"unknown keyword {keyword.arg!r}; use one of {sorted(_KEYWORDS)}")
        changes[keyword.arg] = _value(keyword.value)
    for name in ("person", "definition", "query", "path"):
        if name in changes and not _PLAIN.fullmatch(changes[name]):
            raise ValueError(f"{name} must be printable ASCII without spaces; use raw_person for anything else")
    if "headers" in changes:
        changes["headers"] = tuple(tuple(pair) for pair in changes["headers"])
    return replace(CatalogueRequest(), **changes)


def _cells(line: str) -> list[str]:
    # A table row: split on pipes that are not escaped (none of the inputs needs one).
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _unquote(cell: str) -> str:
    if not (cell.startswith("`") and cell.endswith("`")):
        raise ValueError(f"expected a `code` cell, got {cell!r}")
    return cell[1:-1]


def load_rows(path: Path = TESTING_MD) -> list[Row]:
    """The rows of the catalogue table in TESTING.md, in order."""
    lines = path.read_text("utf-8").splitlines()
    start = lines.index(SECTION)
    header_at = next(i for i in range(start, len(lines)) if lines[i].startswith("| id |"))
    if _cells(lines[header_at]) != HEADER:
        raise ValueError(f"the catalogue's columns must be {HEADER}")
    rows: list[Row] = []
    for line in lines[header_at + 2 :]:
        if not line.startswith("|"):
            break
        row_id, row_input, status, why = _cells(line)
        text = _unquote(row_input)
        rows.append(Row(_unquote(row_id), text, int(status), why, parse_input(text)))
    return rows
