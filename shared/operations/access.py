"""Who reaches /ops: it acts on every tenant's read models at once, so platform operators only,
never a tenant's admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from shared.http.identity import Operator, operator_policy

Operators = Annotated[Operator, operator_policy()]
OperatorChanges = Annotated[Operator, operator_policy(changes_state=True)]
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]  # a replay's or a rebuild's
ReplayId = JobId
