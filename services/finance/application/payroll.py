"""Payroll cost: a payroll system's CSV export, checked whole and posted as the month's
journal (nothing imported while any line is wrong; the same lines posted once)."""

from __future__ import annotations

from services.finance.application.accounts import Accounts
from services.finance.domain import streams
from services.finance.domain.payroll import (
    PayrollMonth,
    PostPayrollJournal,
    parse_payroll,
    payroll_month,
)
from shared.commands import CommandHandler, Outcome
from shared.events import Metadata
from shared.usecases import UseCases


class Payroll(UseCases):
    def __init__(self, handler: CommandHandler, accounts: Accounts) -> None:
        super().__init__(handler)
        self._accounts = accounts

    async def import_csv(
        self, meta: Metadata, *, journal_id: str, text: str, source: str
    ) -> Outcome[PayrollMonth]:
        parsed = parse_payroll(text, await self._accounts.in_use(meta))
        command = PostPayrollJournal(
            journal_id=journal_id,
            month=parsed.month,
            lines=parsed.lines,
            source=source,
            posted_by=meta.actor or "",
            posted_at=self.now(),
        )
        stream = streams.payroll(meta.tenant, parsed.month)
        return await self.decide(stream, payroll_month, command, meta)
