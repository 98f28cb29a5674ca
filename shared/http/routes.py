"""What every service's routes share: request bodies, ids, the answer to a command, site
checks, read-your-writes waits and paging. Routes stay parse → authorise → call → map."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from shared.commands import Outcome
from shared.http.identity import Principal
from shared.readmodels import ReadModels

T = TypeVar("T")

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Body(BaseModel):
    """A request body: frozen, and an unknown field is a 422, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Recorded(BaseModel):
    """What a command did: the new resource's id and where its stream now stands."""

    id: str
    stream: str
    stream_version: int


def recorded(resource_id: str, outcome: Outcome[Any]) -> Recorded:
    return Recorded(id=resource_id, stream=outcome.stream, stream_version=outcome.stream_version)


def check_site(principal: Principal, site_id: str) -> None:
    """403 unless the caller works at the site."""
    if not principal.at_site(site_id):
        raise HTTPException(403, f"You do not work at site {site_id}")


async def read_after(
    read_models: ReadModels,
    projection: str,
    collection: str,
    doc_id: str,
    stream: str,
    version: int,
    timeout: float,
    head: Callable[[str], Awaitable[int]],
) -> None:
    """Read-your-writes (`after_version`): wait, bounded, until the document has seen `stream`
    up to `version`. A version the event store does not have (`head`) is a 422 at once; still
    behind at the bound, a 503 with Retry-After."""
    caught_up = await read_models.wait_for(
        projection, collection, doc_id, stream, version, timeout, head
    )
    if not caught_up:
        raise HTTPException(
            503, "The read model has not caught up yet", headers={"Retry-After": "1"}
        )


# A read's read-your-writes query parameters: the stream written and the version to wait for.
AfterStream = Annotated[str | None, Query(max_length=300)]
AfterVersion = Annotated[int | None, Query(ge=1)]


def written(after_stream: str | None, after_version: int | None) -> tuple[str, int] | None:
    """The write a read waits for (`after_stream` up to `after_version`), or None when it
    waits for none; a version without its stream is a 400."""
    if after_version is None:
        return None
    if after_stream is None:
        raise HTTPException(400, "after_version needs the after_stream it belongs to")
    return after_stream, after_version


def next_after(page: Sequence[T], limit: int, position: Callable[[T], int]) -> int | None:
    """Keyset paging: where the next page starts (`after=`), or None when this one was the
    last (shorter than `limit`)."""
    return position(page[-1]) if page and len(page) == limit else None


# ----------------------------------------------------------------------------- opaque cursors

Limit = Annotated[int, Query(ge=1, le=500, description="rows per page (1 to 500)")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the page before: where this one starts"),
]


def encode_cursor(*values: str) -> str:
    """Where the next page starts, as an opaque token: the last row's sort key."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(token: str, parts: int) -> tuple[str, ...]:
    """A cursor this API handed out, back to its sort key; anything else is a 422."""
    try:
        padded = token + "=" * (-len(token) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        raise HTTPException(422, "cursor is not one this API handed out") from None
    if (
        not isinstance(values, list)
        or len(values) != parts
        or not all(isinstance(v, str) and 0 < len(v) <= 200 for v in values)
    ):
        raise HTTPException(422, "cursor is not one this API handed out")
    return tuple(values)


def next_cursor(page: Sequence[T], limit: int, key: Callable[[T], tuple[str, ...]]) -> str | None:
    """The cursor of the page after `page`, or None when it was the last (shorter than
    `limit`)."""
    return encode_cursor(*key(page[-1])) if page and len(page) == limit else None


# ----------------------------------------------------------------------------- dates


D = TypeVar("D", bound=date)


def _plausible(day: D) -> D:
    if not 1900 <= day.year <= 2200:
        raise ValueError("a date between the years 1900 and 2200")
    return day


# A date in a body or query: one far outside working life (year 1, year 9999) is a 422 that
# names the field, before any arithmetic on it (a day after 9999-12-31 does not exist).
PlausibleDay = Annotated[date, AfterValidator(_plausible)]
# The same for a time (an `as_of`): year 9999 at -12:00 is in year 10000 once compared in UTC.
PlausibleMoment = Annotated[AwareDatetime, AfterValidator(_plausible)]
# A time whose offset may be left out (the route reads it as UTC), within the same years.
PlausibleTime = Annotated[datetime, AfterValidator(_plausible)]
