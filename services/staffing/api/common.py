"""What training's and reviews' routes share: who reaches which staff (hr and admin every
employee of the tenant, a manager the staff of their sites, anyone else only themselves), and
the dates they take. Another's step is `NotTheirs`, a `shared.domain.Forbidden`: 403 like every
domain refusal, mapped once in `shared/http/problems.py`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator

from services.staffing.application.employment import Sites
from shared.http.identity import Principal


def _plausible(day: date) -> date:
    if not 1900 <= day.year <= 2200:
        raise ValueError("a date between the years 1900 and 2200")
    return day


# A date in a body or query: one far outside working life (year 1, year 9999) is a 422 that
# names the field, before any arithmetic on it.
Day = Annotated[date, AfterValidator(_plausible)]


def everyone(who: Principal) -> bool:
    return "hr" in who.roles or "admin" in who.roles


def reach(who: Principal) -> Sites:
    """The sites whose staff the caller reaches: all, their own (a manager), or none."""
    if everyone(who):
        return "*"
    return who.sites if "manager" in who.roles else []


def reaches(who: Principal, employee_id: str, site_ids: list[str] | tuple[str, ...]) -> bool:
    sites = reach(who)
    return employee_id == who.sub or sites == "*" or bool(set(site_ids) & set(sites))
