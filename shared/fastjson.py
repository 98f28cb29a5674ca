"""JSON on the hot paths (bus records, stored events, read-model documents): orjson, with the
standard library wherever orjson would not give back what `json` did.

Writing is compact UTF-8. For an ASCII-only value it is byte for byte what
`json.dumps(value, separators=(",", ":"))` wrote; other text is now UTF-8 instead of `\\u`
escapes, which every JSON reader takes as the same string. What orjson refuses to write
(integers beyond 64 bits, keys that are not strings, nesting deeper than 254) is written by
`json`, as before. A non-finite float is written as `null` (JSON has no NaN): events refuse
them (`DomainEvent`), documents too (`check_document`).

Reading gives what `json.loads` gave, for everything ever written here or by `json.dumps`:
orjson reads what it can; the `NaN`/`Infinity` tokens, lone surrogates and integers of 20
digits or more (which orjson would read as floats) are left to `json`.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["dumps", "dumps_text", "loads"]

# 2**64 has 20 digits: any shorter integer orjson reads as an int, a longer one as a float.
# A run of 20 digits anywhere (in a string too) sends the text to `json`; found by mapping
# every digit to "0" and everything else to " " (a third of the time of a regular expression).
_DIGITS_AS_ZEROS = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_RUN = b"0" * 20


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":")).encode()


def dumps_text(value: Any) -> str:
    """`dumps` as text, for SQLite TEXT columns."""
    return dumps(value).decode()


def loads(data: bytes | str, *, exact_big_integers: bool = True) -> Any:
    """The value `json.loads` would give; raises ValueError (orjson's error is one) on bad JSON.

    `exact_big_integers=False` skips the look for 20-digit runs, for JSON that holds no number
    anyone reads (bus headers: strings only, checked as such after)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if exact_big_integers and _LONG_RUN in raw.translate(_DIGITS_AS_ZEROS):
        return json.loads(data)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(data)
