"""X12 syntax: separators, segments, values.

A file names its own separators in its ISA: the element separator is the character at position 3,
the repetition separator is ISA11, the component separator ISA16, and the segment terminator is
the character right after ISA16. Anything between a terminator and the next segment (newlines,
carriage returns) is layout, not data.

Values we write are made safe here, so that nothing a person typed can break a file:
- free text (names, addresses) is folded to the X12 character set: accents dropped (José ->
  JOSE), upper-cased as payers expect, every character outside the basic and extended character
  sets or equal to a separator becomes a space, runs of spaces shrink to one, and the value is cut
  to the element's maximum length;
- identifiers and codes (claim ids, NPIs, member ids, procedure codes) are never altered: one
  holding a separator or a character outside the set is refused (X12ValueError), since a
  silently changed id would no longer match what comes back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as time_of_day  # a value; the architecture test bans time() calls
from decimal import Decimal, InvalidOperation

Segment = tuple[str, ...]  # the tag, then its elements (composites still joined)


class X12ValueError(ValueError):
    """A value, a segment or a file that X12 cannot carry or that we cannot read."""


@dataclass(frozen=True)
class Separators:
    element: str = "*"
    repetition: str = "^"
    component: str = ":"
    segment: str = "~"

    def all(self) -> frozenset[str]:
        return frozenset((self.element, self.repetition, self.component, self.segment))


DEFAULT = Separators()

# The basic character set, then the extended one's additions (lower case letters and a few
# signs); the separators we write with are taken out by `text` and refused by `ident`.
_BASIC = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"&'()*+,-./:;?=")
_EXTENDED = set("abcdefghijklmnopqrstuvwxyz%@[]_{}\\|<>~^#$")
CHARACTER_SET = frozenset(_BASIC | _EXTENDED)


def text(value: str, max_length: int, separators: Separators = DEFAULT) -> str:
    """Free text made safe (see the module docstring); idempotent."""
    if value.isascii():
        folded = value.upper()
    else:
        ascii_only = unicodedata.normalize("NFKD", value).encode("ascii", "ignore")
        folded = ascii_only.decode("ascii").upper()
    kept = _rules(separators).unsafe.sub(" ", folded)
    return " ".join(kept.split())[:max_length].rstrip()


def ident(value: str, max_length: int, separators: Separators = DEFAULT) -> str:
    """An identifier or code, refused (never altered) if X12 cannot carry it as it is."""
    if not value:
        raise X12ValueError("an identifier is empty")
    if len(value) > max_length:
        raise X12ValueError(f"identifier {value!r} is longer than {max_length} characters")
    if _rules(separators).safe.fullmatch(value) is None:
        bad = next((c for c in value if _rules(separators).safe.fullmatch(c) is None), " ")
        raise X12ValueError(f"identifier {value!r} holds {bad!r}, which X12 cannot carry")
    if value[0] == " " or value[-1] == " ":
        raise X12ValueError(f"identifier {value!r} starts or ends with a space")
    return value


@dataclass(frozen=True)
class _Rules:
    safe: re.Pattern[str]  # one or more characters X12 can carry with these separators
    unsafe: re.Pattern[str]  # one character it cannot


def _compiled(separators: Separators) -> _Rules:
    escaped = re.escape("".join(sorted(CHARACTER_SET - separators.all())))
    return _Rules(re.compile(f"[{escaped}]+"), re.compile(f"[^{escaped}]"))


_DEFAULT_RULES = _compiled(DEFAULT)
_RULES: dict[Separators, _Rules] = {DEFAULT: _DEFAULT_RULES}


def _rules(separators: Separators) -> _Rules:
    """The character classes for a set of separators, compiled once (a pure cache)."""
    if separators is DEFAULT:  # what every writer uses: skip hashing the dataclass
        return _DEFAULT_RULES
    found = _RULES.get(separators)
    if found is None:
        found = _RULES[separators] = _compiled(separators)
    return found


# ------------------------------------------------------------------------------ numbers, dates


def amount(cents: int) -> str:
    """Integer cents as an X12 decimal: 10000 -> "100", 10050 -> "100.5", -5 -> "-0.05"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    if part == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{part:02d}".rstrip("0")


def cents_of(value: str) -> int:
    try:
        number = Decimal(value) * 100
    except InvalidOperation:
        raise X12ValueError(f"{value!r} is not an amount") from None
    if number != number.to_integral_value():
        raise X12ValueError(f"{value!r} is not a whole number of cents")
    return int(number)


def whole_number(value: str) -> int:
    """A quantity ("1", "1.00") that must be whole (units of service)."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise X12ValueError(f"{value!r} is not a number") from None
    if number != number.to_integral_value():
        raise X12ValueError(f"{value!r} is not a whole number")
    return int(number)


def ccyymmdd(day: date) -> str:
    return day.isoformat().replace("-", "")


def date_of(value: str) -> date:
    """CCYYMMDD, or the first date of a CCYYMMDD-CCYYMMDD range (RD8)."""
    head = value.split("-")[0]
    if len(head) != 8 or not head.isdigit():
        raise X12ValueError(f"{value!r} is not a CCYYMMDD date")
    try:
        return date(int(head[:4]), int(head[4:6]), int(head[6:]))
    except ValueError:
        raise X12ValueError(f"{value!r} is not a date") from None


def time_of(day: date, hhmm: str) -> datetime:
    """A date and an X12 time (HHMM, HHMMSS or longer), as a naive wall time."""
    if len(hhmm) < 4 or not hhmm.isdigit():
        raise X12ValueError(f"{hhmm!r} is not an HHMM time")
    second = int(hhmm[4:6]) if len(hhmm) >= 6 else 0
    try:
        return datetime.combine(day, time_of_day(int(hhmm[:2]), int(hhmm[2:4]), second))
    except ValueError:
        raise X12ValueError(f"{hhmm!r} is not a time") from None


# ------------------------------------------------------------------------ reading and writing


def separators_of(content: str) -> Separators:
    """The separators an interchange declares in its ISA segment."""
    start = content.lstrip("\ufeff \t\r\n")
    if not start.startswith("ISA") or len(start) < 106:
        raise X12ValueError("the file does not start with an ISA segment")
    element = start[3]
    # ISA16 follows the sixteenth element separator; the terminator follows ISA16.
    position = -1
    for _ in range(16):
        position = start.find(element, position + 1)
        if position < 0:
            raise X12ValueError("the ISA segment has fewer than 16 elements")
    component = start[position + 1]
    terminator = start[position + 2]
    repetition = start[:position].split(element)[11]  # the ISA only, not the whole file
    if len(repetition) != 1 or repetition.isalnum():
        repetition = ""  # before 00501 ISA11 was a standards identifier ("U"), not a separator
    seps = Separators(element, repetition or "^", component, terminator)
    if len({element, component, terminator}) != 3 or terminator.isalnum() or element.isalnum():
        raise X12ValueError("the ISA declares unusable separators")
    return seps


def tokenise(content: str) -> tuple[Separators, list[Segment]]:
    """The file's separators and its segments, layout between segments dropped."""
    seps = separators_of(content)
    segments: list[Segment] = []
    for raw in content.lstrip("\ufeff").split(seps.segment):
        piece = raw.strip("\r\n\t ")
        if piece:
            segments.append(tuple(piece.split(seps.element)))
    return seps, segments


def components(value: str, separators: Separators = DEFAULT) -> list[str]:
    return value.split(separators.component)


def element(segment: Segment, position: int) -> str:
    """Element n (1-based) of a segment, "" when the segment stops before it."""
    return segment[position] if position < len(segment) else ""


def composite(*parts: str, separators: Separators = DEFAULT) -> str:
    """Components joined, trailing empty ones dropped."""
    values = list(parts)
    while values and values[-1] == "":
        values.pop()
    return separators.component.join(values)


def segment(tag: str, *elements: str) -> Segment:
    """A segment with its trailing empty elements dropped (X12 forbids them)."""
    values = list(elements)
    while values and values[-1] == "":
        values.pop()
    return (tag, *values)


def write(
    segments: Iterable[Sequence[str]], separators: Separators = DEFAULT, layout: str = "\n"
) -> str:
    """Segments as text, each followed by the terminator and `layout` (a newline by default:
    readable, and ignored by every reader, ours included)."""
    end = separators.segment + layout
    return end.join(map(separators.element.join, segments)) + end
