"""Validation shared by the DocumentStore adapters, so that all of them refuse the same input.

A filter is `{field: value}` (equality) or `{field: {operator: value, ...}}` with the operators
in OPERATORS; values are JSON scalars (`$in` takes a list of them). Field names are identifiers
joined by dots. Documents hold JSON values only, with keys that MongoDB can store: strings that
neither contain a dot nor start with `$`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from shared.documents.port import Document, Filter, Sort

FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in"})
SCALARS = (str, int, float, bool, type(None))
INT64 = (-(2**63), 2**63 - 1)

Condition = tuple[str, str, Any]


def check_field(field: str) -> str:
    if not isinstance(field, str) or not FIELD.match(field):
        raise ValueError(f"bad field name {field!r}")
    return field


def _check_scalar(field: str, value: Any) -> None:
    if not isinstance(value, SCALARS):
        raise ValueError(f"filter on {field!r}: {type(value).__name__} is not a JSON scalar")


def conditions(where: Filter | None) -> list[Condition]:
    """The filter as validated (field, operator, value) triples; equality becomes `$eq`."""
    result: list[Condition] = []
    for field, condition in (where or {}).items():
        check_field(field)
        if not isinstance(condition, Mapping):
            _check_scalar(field, condition)
            result.append((field, "$eq", condition))
            continue
        if not condition:
            raise ValueError(f"filter on {field!r} has no operator")
        for op, value in condition.items():
            if op not in OPERATORS:
                raise ValueError(f"unsupported operator {op!r}")
            if op == "$in":
                if not isinstance(value, list | tuple):
                    raise ValueError(f"$in on {field!r} needs a list")
                for item in value:
                    _check_scalar(field, item)
                result.append((field, op, list(value)))
            else:
                _check_scalar(field, value)
                result.append((field, op, value))
    return result


def sort_keys(sort: Sort) -> list[tuple[str, int]]:
    """Validated sort keys, direction 1 (ascending) or -1 (descending)."""
    return [(check_field(field), -1 if direction < 0 else 1) for field, direction in sort]


def check_document(doc: Document) -> None:
    """Refuse what one of the backends could not store or give back unchanged."""
    if not isinstance(doc, dict):
        raise ValueError(f"a document is a dict, not {type(doc).__name__}")
    if not _storable(doc):  # every projected document passes here: the walk that names, rarely
        _check_value(doc, "")


_EXACT_SCALARS = frozenset({str, bool, type(None)})


def _storable(value: Any) -> bool:
    """`_check_value` without building a path for every value: True when it would pass.
    Scalars are checked where they sit, without a call each (most of a document's values)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or "." in key or key[:1] == "$":
                return False
            if type(item) not in _EXACT_SCALARS and not _storable(item):
                return False
        return True
    if kind is list or kind is tuple:
        for item in value:
            if type(item) not in _EXACT_SCALARS and not _storable(item):
                return False
        return True
    if kind in _EXACT_SCALARS:
        return True
    if kind is int:
        return bool(INT64[0] <= value <= INT64[1])
    if kind is float:
        return math.isfinite(value)
    return False  # a subclass, or no JSON value: the full walk decides and names it


def _check_value(value: Any, where: str) -> None:
    if isinstance(value, str | bool) or value is None:
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where or 'document'}: {value} is not a JSON number")
        return
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise ValueError(f"{where or 'document'}: integer {value} does not fit in 64 bits")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or "." in key or key.startswith("$"):
                raise ValueError(f"{where or 'document'}: bad key {key!r}")
            _check_value(item, f"{where}.{key}" if where else key)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{where}[{index}]")
        return
    raise ValueError(f"{where or 'document'}: {type(value).__name__} is not a JSON value")
