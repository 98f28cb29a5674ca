"""A payroll CSV becomes a month's journal lines, or is refused with every bad line named;
the same lines are posted once for a month."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from services.finance.domain.accounts import DEFAULT_ACCOUNTS, Chart, cost_centres_for
from services.finance.domain.events import JournalLine, PayrollJournalPosted
from services.finance.domain.payroll import (
    PayrollFileInvalid,
    PostPayrollJournal,
    RowError,
    digest,
    parse_payroll,
    payroll_month,
)
from shared.domain import Invalid, Rejected
from shared.events import DomainEvent

T0 = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
CHART = Chart(accounts=DEFAULT_ACCOUNTS, cost_centres=cost_centres_for(["north", "south"]))
JULY = date(2026, 7, 1)

GOOD = """\
site,month,account,amount
north,2026-07,5100,"45,000.50"
south,2026-07,5100,$30000
north,2026-07,5100,-120.25

north,2026-07,5600,1200.5
"""


def test_a_payroll_file_becomes_journal_lines_per_site_and_account() -> None:
    parsed = parse_payroll(GOOD, CHART)
    assert parsed.month == JULY
    assert parsed.lines == (
        JournalLine(site_id="north", account_code="5100", amount_cents=4_488_025),
        JournalLine(site_id="north", account_code="5600", amount_cents=120_050),
        JournalLine(site_id="south", account_code="5100", amount_cents=3_000_000),
    )
    assert parsed.total_cents == 7_608_075


def test_a_header_of_any_case_and_a_byte_order_mark_are_read() -> None:
    text = "\ufeffSite, Month ,ACCOUNT,amount\r\nnorth,2026-07,5100,10\r\n"
    assert parse_payroll(text, CHART).lines == (
        JournalLine(site_id="north", account_code="5100", amount_cents=1_000),
    )


def test_every_bad_line_is_reported_and_nothing_imported() -> None:
    text = """\
site,month,account,amount
north,2026-07,5100,100.00
east,2026-07,5100,100.00
north,2026-13,5100,100.00
north,2026-07,4100,100.00
north,2026-07,5100,12.345
north,2026-07,5100,ten
north,2026-07,5100,0
north,2026-07
north,2026-08,5100,1.00
north,2026-07,9999,1.00
"""
    with pytest.raises(PayrollFileInvalid) as refused:
        parse_payroll(text, CHART)
    assert refused.value.errors == (
        RowError(3, "site 'east' has no cost centre"),
        RowError(4, "month '2026-13' is not YYYY-MM"),
        RowError(5, "account 4100 is not an expense account"),
        RowError(6, "amount '12.345' has more than two decimals"),
        RowError(7, "amount 'ten' is not a number"),
        RowError(8, "amount is zero"),
        RowError(9, "2 fields, not 4 (site,month,account,amount)"),
        RowError(10, "month 2026-08: the import is for 2026-07"),
        RowError(11, "account '9999' is not in the chart of accounts"),
    )
    assert isinstance(refused.value, Invalid)
    assert refused.value.reason.startswith("the payroll file is not imported: line 3: site")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", RowError(1, "the header must be site,month,account,amount")),
        (
            "site,month,amount\nnorth,2026-07,1\n",
            RowError(1, "the header must be site,month,account,amount"),
        ),
        ("site,month,account,amount\n", RowError(1, "the file has no rows")),
        ("site,month,account,amount\n,,,\n", RowError(2, "the file has no rows")),
    ],
)
def test_a_file_without_its_header_or_rows_is_refused(text: str, error: RowError) -> None:
    with pytest.raises(PayrollFileInvalid) as refused:
        parse_payroll(text, CHART)
    assert refused.value.errors == (error,)


def test_an_import_is_for_the_month_asked() -> None:
    with pytest.raises(PayrollFileInvalid) as refused:
        parse_payroll(GOOD, CHART, month=date(2026, 8, 1))
    assert [e.line for e in refused.value.errors] == [2, 3, 4, 6]
    assert parse_payroll(GOOD, CHART, month=JULY).month == JULY


def test_a_value_like_nan_or_infinity_is_not_an_amount() -> None:
    for value in ("NaN", "Infinity", "-inf"):
        with pytest.raises(PayrollFileInvalid, match="is not a number"):
            parse_payroll(f"site,month,account,amount\nnorth,2026-07,5100,{value}\n", CHART)


# ----------------------------------------------------------------------------- posting

LINES = parse_payroll(GOOD, CHART).lines


def post(journal_id: str, lines: tuple[JournalLine, ...] = LINES) -> PostPayrollJournal:
    return PostPayrollJournal(
        journal_id=journal_id,
        month=JULY,
        lines=lines,
        source="adp-2026-07.csv",
        posted_by="fin1",
        posted_at=T0,
    )


def decide(given: Sequence[DomainEvent], command: PostPayrollJournal) -> list[DomainEvent]:
    return list(payroll_month.decide(payroll_month.fold(given), command))


def test_a_journal_is_posted_once_and_the_same_lines_again_are_refused() -> None:
    [posted] = decide([], post("j1"))
    assert posted == PayrollJournalPosted(
        journal_id="j1",
        month=JULY,
        lines=LINES,
        total_cents=7_608_075,
        digest=digest(LINES),
        source="adp-2026-07.csv",
        posted_by="fin1",
        posted_at=T0,
    )
    assert decide([posted], post("j1")) == []  # a retry
    with pytest.raises(Rejected, match="posted for 2026-07 as journal j1"):
        decide([posted], post("j2", tuple(reversed(LINES))))
    with pytest.raises(Rejected, match="j1 is posted already, with other lines"):
        decide([posted], post("j1", LINES[:1]))


def test_a_second_pay_period_s_journal_in_the_month_is_posted() -> None:
    [first] = decide([], post("j1"))
    [second] = decide([first], post("j2", LINES[:1]))
    assert isinstance(second, PayrollJournalPosted)
    assert second.total_cents == 4_488_025


def test_a_journal_needs_lines_and_a_month_s_first_day() -> None:
    with pytest.raises(Invalid, match="needs lines"):
        decide([], post("j1", ()))
    with pytest.raises(Invalid, match="first day of the month"):
        decide([], post("j1").model_copy(update={"month": date(2026, 7, 2)}))
