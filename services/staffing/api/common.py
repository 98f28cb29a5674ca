"""What training's and reviews' routes share: who reaches which staff (hr and admin every
employee of the tenant, a manager the staff of their sites, anyone else only themselves), and
the dates they take. Another's step is `NotTheirs`, a `shared.domain.Forbidden`: 403 like every
domain refusal, mapped once in `shared/http/problems.py`."""

from __future__ import annotations

from services.staffing.application.employment import Sites
from shared.http.identity import Principal
from shared.http.routes import PlausibleDay

Day = PlausibleDay


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
