"""An employee as training and reviews need them, folded from the event store, and whether a
caller limited to some sites reaches them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from services.staffing.domain import streams
from services.staffing.domain.employment import Employment, NotTheirs, employment
from shared.domain import NotFound, Rejected
from shared.usecases import UseCases

Sites = Sequence[str] | Literal["*"]  # a caller's sites, as the token names them


async def employee(
    use_cases: UseCases, tenant: str, employee_id: str, within: Sites = "*"
) -> Employment:
    """The employee as their stream has them: 404 if never hired, 403 if they work at none of
    `within`, 409 if no longer employed."""
    found = await use_cases.state(streams.employee(tenant, employee_id), employment)
    if not found.known:
        raise NotFound(f"employee {employee_id} not found")
    if within != "*" and not set(found.site_ids) & set(within):
        raise NotTheirs(f"employee {employee_id} does not work at your sites")
    if not found.employed:
        raise Rejected(f"employee {employee_id} is no longer employed")
    return found
