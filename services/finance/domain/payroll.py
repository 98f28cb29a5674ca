"""Payroll cost as a monthly journal: a payroll system's CSV export, parsed and checked as a
whole, posted on `streams.payroll(tenant, month)`.

The file has a header `site,month,account,amount` and a row per amount: a site with a cost
centre, a month `YYYY-MM`, an expense account's code and an amount in dollars with at most two
decimals (`12345.67`, `-120.00` for a correction; `$` and thousands commas are allowed,
quoted). Every bad row is reported with its line number (the header is line 1) and nothing is
imported until the file is right. An import is for one month; rows of a site and account are
added up into one journal line.

A month may have several journals (one per pay period), but the same lines are posted once:
posting them again under another journal id is refused naming the first.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.finance.domain.accounts import Chart
from services.finance.domain.events import JournalLine, PayrollJournalPosted
from shared.domain import Command, Decider, Invalid, Rejected
from shared.events import DomainEvent

HEADER = ("site", "month", "account", "amount")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class PayrollFileInvalid(Invalid):
    """The file is refused, with every problem found (HTTP 422)."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("the payroll file is not imported: " + "; ".join(map(str, errors)))
        self.errors = tuple(errors)


@dataclass(frozen=True)
class PayrollImport:
    month: date
    lines: tuple[JournalLine, ...]

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


def _month(text: str) -> date:
    parts = text.split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2:
        raise ValueError(f"month {text!r} is not YYYY-MM")
    try:
        return date(int(parts[0]), int(parts[1]), 1)
    except ValueError:
        raise ValueError(f"month {text!r} is not YYYY-MM") from None


def _cents(text: str) -> int:
    cleaned = text.replace(",", "").replace("$", "", 1)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"amount {text!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"amount {text!r} is not a number")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"amount {text!r} has more than two decimals")
    if cents == 0:
        raise ValueError("amount is zero")
    return int(cents)


def _row(fields: list[str], chart: Chart) -> tuple[str, date, str, int]:
    """The row's site, month, account and cents, or the first of its problems."""
    if len(fields) != len(HEADER):
        raise ValueError(f"{len(fields)} fields, not {len(HEADER)} ({','.join(HEADER)})")
    site, month, account, amount = (f.strip() for f in fields)
    if not site or not chart.has_site(site):
        raise ValueError(f"site {site!r} has no cost centre")
    codes = {a.code: a for a in chart.accounts}
    if account not in codes:
        raise ValueError(f"account {account!r} is not in the chart of accounts")
    if codes[account].kind != "expense":
        raise ValueError(f"account {account} is not an expense account")
    return site, _month(month), account, _cents(amount)


def parse_payroll(text: str, chart: Chart, month: date | None = None) -> PayrollImport:
    """The file's journal lines for its month (`month`, when given, or the first row's), or
    `PayrollFileInvalid` naming every bad line."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    errors: list[RowError] = []
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        raise PayrollFileInvalid([RowError(1, f"the header must be {','.join(HEADER)}")])
    sums: dict[tuple[str, str], int] = {}
    for fields in reader:
        if not any(f.strip() for f in fields):
            continue
        try:
            site, row_month, account, cents = _row(fields, chart)
        except ValueError as problem:
            errors.append(RowError(reader.line_num, str(problem)))
            continue
        if month is None:
            month = row_month
        if row_month != month:
            wrong = f"month {row_month:%Y-%m}: the import is for {month:%Y-%m}"
            errors.append(RowError(reader.line_num, wrong))
            continue
        sums[(site, account)] = sums.get((site, account), 0) + cents
    if errors:
        raise PayrollFileInvalid(errors)
    if month is None or not sums:
        raise PayrollFileInvalid([RowError(reader.line_num, "the file has no rows")])
    lines = tuple(
        JournalLine(site_id=site, account_code=account, amount_cents=cents)
        for (site, account), cents in sorted(sums.items())
    )
    return PayrollImport(month=month, lines=lines)


def digest(lines: Sequence[JournalLine]) -> str:
    """What identifies a journal's lines, whatever their order."""
    canonical = "\n".join(
        f"{line.site_id}\t{line.account_code}\t{line.amount_cents}"
        for line in sorted(lines, key=lambda x: (x.site_id, x.account_code, x.amount_cents))
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class PayrollMonth(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    journals: tuple[tuple[str, str], ...] = ()  # (journal id, digest) posted


class PostPayrollJournal(Command):
    journal_id: str
    month: date
    lines: tuple[JournalLine, ...]
    source: str
    posted_by: str
    posted_at: AwareDatetime


def _evolve(state: PayrollMonth, event: DomainEvent) -> PayrollMonth:
    if isinstance(event, PayrollJournalPosted):
        return PayrollMonth(journals=(*state.journals, (event.journal_id, event.digest)))
    return state


def _decide(state: PayrollMonth, command: PostPayrollJournal) -> list[DomainEvent]:
    if command.month.day != 1:
        raise Invalid("a journal's month is the first day of the month")
    if not command.lines:
        raise Invalid("a payroll journal needs lines")
    lines_digest = digest(command.lines)
    for journal_id, posted in state.journals:
        if journal_id == command.journal_id:
            if posted == lines_digest:
                return []
            raise Rejected(f"journal {journal_id} is posted already, with other lines")
        if posted == lines_digest:
            raise Rejected(
                f"these lines were posted for {command.month:%Y-%m} as journal {journal_id}"
            )
    return [
        PayrollJournalPosted(
            journal_id=command.journal_id,
            month=command.month,
            lines=command.lines,
            total_cents=sum(line.amount_cents for line in command.lines),
            digest=lines_digest,
            source=command.source,
            posted_by=command.posted_by,
            posted_at=command.posted_at,
        )
    ]


payroll_month: Decider[PayrollMonth, PostPayrollJournal] = Decider(PayrollMonth(), _evolve, _decide)
