"""Strict JSON: one UTF-8 JSON document, with everything Python's json lets through or chokes on refused.

Refused with `InvalidJson`: invalid UTF-8, NaN/Infinity, numbers that overflow a double, integers of over
4,300 digits, nesting too deep to parse, duplicate keys, unpaired surrogates. A leading UTF-8 BOM is ignored
(RFC 8259 §8.1 allows that).

Two parsers, one answer: orjson is the fast path (about ten times faster than json on the seed's body), and
the standard library's json, with hooks for each rule above, decides whenever orjson refuses a document or
might read it differently (a possible duplicate key, which orjson resolves silently; an integer of 19+ digits,
which orjson turns into a float). So the result and every error text are the standard parser's.

Duplicate keys, cheaply: every key ends in ``"`` then ``:``. Count those runs (with optional whitespace) in
the raw text and count ``":`` in orjson's compact re-encoding of what it parsed. Inside strings, a quote is
``\"`` in both (unless written ``\u0022``: such a document goes to the standard parser), and the raw count
also takes whitespace variants, so the raw count is never smaller. Equal counts prove that no key was lost.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

import orjson

__all__ = ["InvalidJson", "dumps", "parse_json"]

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")
# Strictly decoded UTF-8 holds no surrogates, so only a \uD800-\uDFFF escape can produce one.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
# Digits where orjson could lose an integer's precision (it reads integers beyond 64 bits as floats).
_LONG_DIGIT_RUN: Final = re.compile(rb"\d{19}")
# Every object member's key ends in `"` then `:`; strings may hold more such runs, never fewer.
_KEY_END: Final = re.compile(rb'"[ \t\r\n]*:')
_ESCAPED_QUOTE: Final = b"\\u0022"


class InvalidJson(ValueError):
    """A request body that is not acceptable JSON (malformed, too deep, non-finite, duplicate keys...)."""


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of a value parsed by `parse_json` (or built of JSON types)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits, which orjson cannot write
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _reject_constant(token: str) -> Any:
    raise InvalidJson(f"{token} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJson(f"number {text[:20]}{'...' if len(text) > 20 else ''} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidJson(f"duplicate key {key[:100]!r}")
            seen.add(key)
    return result


def _check_unicode(value: Any) -> None:
    """Reject lone surrogates (`"\\ud800"`), which cannot be encoded back to UTF-8. Iterative, so any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                raise InvalidJson("string holds an unpaired UTF-16 surrogate")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _parse_standard(raw: bytes) -> Any:
    """The reference parser: Python's json with a hook for each rule."""
    if raw.startswith(_UTF8_BOM):
        raw = raw[len(_UTF8_BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"body is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(
            text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant, parse_float=_finite_float
        )
    except json.JSONDecodeError as exc:
        raise InvalidJson(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InvalidJson("JSON is nested too deeply") from None
    except InvalidJson:
        raise
    except ValueError:  # int() over sys.get_int_max_str_digits(); its text names Python internals
        raise InvalidJson("number out of range: an integer has too many digits") from None
    if _SURROGATE_ESCAPE.search(text):
        _check_unicode(value)
    return value


def parse_json(raw: bytes) -> Any:
    """Parse a UTF-8 JSON document strictly (see the module docstring). Raises `InvalidJson`."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _parse_standard(raw)
    if _LONG_DIGIT_RUN.search(raw) or _ESCAPED_QUOTE in raw:
        return _parse_standard(raw)
    if len(_KEY_END.findall(raw)) != orjson.dumps(value).count(b'":'):  # a key was given twice
        return _parse_standard(raw)
    return value
