"""Reading input rows from JSONL or CSV, streamed, with line numbers and every problem of each row.

A row, in its JSONL form: ``personId``, ``identifierType``, ``definitionId`` (strings, required),
``properties`` (an object, optional), ``eventId`` (a string, optional), ``createPerson`` (a boolean, optional).
A ``deadLetter`` key (what a dead-letter file adds) is ignored, so a dead-letter file can be fixed and re-sent.

CSV has the same columns, plus either one ``properties`` column holding a JSON object, or one
``properties.<name>`` column per property. Typing rules for CSV cells:

- ``personId``, ``identifierType``, ``definitionId``, ``eventId``: the text as it is; an empty ``eventId`` means none;
- ``createPerson``: ``true`` or ``false`` (any case); empty means false;
- ``properties``: a JSON object; empty means no properties;
- ``properties.<name>``: a cell that is a JSON value is that value (``12``, ``12.5``, ``true``, ``null``,
  ``"12"``, ``[1, 2]``, ``{"a": 1}``); any other text is a string (``jane@example.com``, ``2024-05-01T10:00:00Z``,
  ``0041...``); an empty cell leaves the property out. So ``12`` is a number and ``"12"`` (quoted JSON, written
  ``\"\"\"12\"\"\"`` in CSV) is a string.

JSON is read strictly: NaN and Infinity, duplicate keys and numbers of over 4,300 digits are problems.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

FIELDS = ("personId", "identifierType", "definitionId", "properties", "eventId", "createPerson")
REQUIRED = ("personId", "identifierType", "definitionId")
IGNORED = ("deadLetter",)
PROPERTY_PREFIX = "properties."

Problems = dict[str, list[str]]


class InputError(Exception):
    """The input cannot be read at all (e.g. a CSV header without the required columns): exit 2."""


@dataclass(frozen=True, slots=True)
class Row:
    """One input row: its first line, its typed fields (None when it could not be read as a row), the problems
    found while reading it, and its original form as JSON text (the row object, or a string of the raw text)."""

    line: int
    fields: dict[str, Any] | None
    problems: Problems
    original: str


class TrackedInput:
    """Lines of a binary stream, counting the bytes and lines read and hashing them (SHA-256), so that a journal
    can record exactly how far it got and later check that the same input starts the same way."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()
        self.bytes = 0
        self.lines = 0

    def readline(self) -> bytes:
        line = self._stream.readline()
        if line:
            self.bytes += len(line)
            self.lines += 1
            self._hash.update(line)
        return line

    def skip(self, count: int, lines: int) -> bool:
        """Read and hash the first ``count`` bytes (``lines`` lines); False if the input is shorter."""
        left = count
        while left > 0:
            chunk = self._stream.read(min(left, 1 << 20))
            if not chunk:
                return False
            self._hash.update(chunk)
            left -= len(chunk)
        self.bytes, self.lines = count, lines
        return True

    def digest(self) -> str:
        """The SHA-256 of everything read so far."""
        return self._hash.hexdigest()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def strict_json(text: str) -> Any:
    """``json.loads`` that refuses NaN/Infinity and duplicate keys. Raises ValueError (RecursionError included)."""
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _dump(value: Any) -> str:
    """JSON text in ASCII: a lone surrogate from a JSON escape (``"\\ud800"``) stays storable as text."""
    return json.dumps(value, separators=(",", ":"))


def _json_problem(err: ValueError) -> str:
    return f"is not valid JSON: {err}"


def check_fields(row: dict[str, Any]) -> Problems:
    """The structural problems of a JSONL-form row: unknown fields, missing fields, wrong JSON types."""
    problems: Problems = {}
    for name in row:
        if name not in FIELDS and name not in IGNORED:
            problems[name] = [f"is not a field (the fields are {', '.join(FIELDS)})"]
    for name in REQUIRED:
        if row.get(name) is None:
            problems[name] = ["is required"]
        elif not isinstance(row[name], str):
            problems[name] = ["must be a string"]
    if row.get("properties") is not None and not isinstance(row["properties"], dict):
        problems["properties"] = ["must be a JSON object"]
    if row.get("eventId") is not None and not isinstance(row["eventId"], str):
        problems["eventId"] = ["must be a string"]
    if "createPerson" in row and not isinstance(row["createPerson"], bool):
        problems["createPerson"] = ["must be true or false"]
    return problems


def _decode(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def jsonl_rows(source: TrackedInput) -> Iterator[Row]:
    """Rows of a JSONL input, one per non-blank line."""
    while True:
        line = source.lines + 1
        raw = source.readline()
        if not raw:
            return
        text = _decode(raw)
        if text is None:
            yield Row(line, None, {"row": ["is not valid UTF-8"]}, _dump(raw.decode("utf-8", "replace").rstrip()))
            continue
        text = text.strip().lstrip("\ufeff") if line == 1 else text.strip()  # a byte order mark opens some exports
        if not text:
            continue
        try:
            value = strict_json(text)
        except ValueError as err:
            yield Row(line, None, {"row": [_json_problem(err)]}, _dump(text))
            continue
        if not isinstance(value, dict):
            yield Row(line, None, {"row": ["must be a JSON object"]}, _dump(text))
            continue
        value.pop("deadLetter", None)
        yield Row(line, value, check_fields(value), text)  # the line is the row's JSON already


@dataclass(frozen=True, slots=True)
class CsvHeader:
    """The checked column names of a CSV input."""

    columns: list[str]

    @classmethod
    def parse(cls, cells: list[str]) -> CsvHeader:
        """Raises InputError naming every problem of the header."""
        problems = []
        seen: set[str] = set()
        for name in cells:
            if name in seen:
                problems.append(f"column {name!r} appears twice")
            seen.add(name)
            if name not in FIELDS and not (name.startswith(PROPERTY_PREFIX) and len(name) > len(PROPERTY_PREFIX)):
                problems.append(f"unknown column {name!r} (columns: {', '.join(FIELDS)}, properties.<name>)")
        problems += [f"the required column {name!r} is missing" for name in REQUIRED if name not in seen]
        if "properties" in seen and any(name.startswith(PROPERTY_PREFIX) for name in seen):
            problems.append("give either a 'properties' column or 'properties.<name>' columns, not both")
        if problems:
            raise InputError("CSV header: " + "; ".join(problems))
        return cls(cells)


def _csv_cell(name: str, cell: str, row: dict[str, Any], problems: Problems) -> None:
    if name in ("personId", "identifierType", "definitionId"):
        row[name] = cell
    elif name == "eventId":
        if cell:
            row[name] = cell
    elif name == "createPerson":
        if cell.lower() in ("true", "false"):
            row[name] = cell.lower() == "true"
        elif cell:
            row[name] = cell
            problems[name] = ["must be true, false or empty"]
    elif name == "properties":
        if cell:
            try:
                row[name] = strict_json(cell)
            except ValueError as err:
                row[name] = cell
                problems[name] = [_json_problem(err)]
    elif cell:
        properties = row.setdefault("properties", {})
        try:
            properties[name.removeprefix(PROPERTY_PREFIX)] = strict_json(cell)
        except ValueError:
            properties[name.removeprefix(PROPERTY_PREFIX)] = cell


class _CsvLines:
    """Decoded lines for csv.reader, keeping the text of the record being read and whether it was valid UTF-8."""

    def __init__(self, source: TrackedInput) -> None:
        self.source = source
        self.record: list[str] = []
        self.valid_utf8 = True

    def start_record(self) -> None:
        self.record.clear()
        self.valid_utf8 = True

    def text(self) -> str:
        return "".join(self.record).rstrip("\r\n")

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = self.source.readline()
        if not raw:
            raise StopIteration
        text = _decode(raw)
        if text is None:
            self.valid_utf8 = False
            text = raw.decode("utf-8", "replace")
        self.record.append(text)
        return text


def read_csv_header(source: TrackedInput) -> CsvHeader:
    """Read and check the header line (line 1). Raises InputError."""
    raw = source.readline()
    text = _decode(raw)
    if text is None:
        raise InputError("CSV header: line 1 is not valid UTF-8")
    try:
        cells = next(csv.reader([text.lstrip("\ufeff")], strict=True), [])
    except csv.Error as err:
        raise InputError(f"CSV header: {err}") from None
    if not cells:
        raise InputError("CSV header: line 1 is empty; the first line must name the columns")
    return CsvHeader.parse(cells)


def csv_rows(source: TrackedInput, header: CsvHeader) -> Iterator[Row]:
    """Rows of a CSV input after its header (a record may span lines inside quotes)."""
    lines = _CsvLines(source)
    reader = csv.reader(lines, strict=True)
    width = len(header.columns)
    while True:
        line = source.lines + 1
        lines.start_record()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield Row(line, None, {"row": [f"is not valid CSV: {err}"]}, _dump(lines.text()))
            continue
        if not cells:
            continue
        problem = None
        if not lines.valid_utf8:
            problem = "is not valid UTF-8"
        elif len(cells) != width:
            problem = f"has {len(cells)} fields; the header has {width}"
        if problem:
            yield Row(line, None, {"row": [problem]}, _dump(lines.text()))
            continue
        row: dict[str, Any] = {}
        problems: Problems = {}
        for name, cell in zip(header.columns, cells, strict=True):
            _csv_cell(name, cell, row, problems)
        problems.update({k: v for k, v in check_fields(row).items() if k not in problems})
        yield Row(line, row, problems, _dump(row))
