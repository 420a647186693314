"""Forecast periods: the kernel's periods (salesapp.periods), plus pickers and weeks.

Quarters follow the fiscal year (`FISCAL_YEAR_START_MONTH`), so a forecast for
Q1_2026 and a quota for Q1_2026 cover the same dates.
"""

from __future__ import annotations

from datetime import date, timedelta

from salesapp.periods import MONTH, QUARTER, Period, parse_period, period_for_date

__all__ = ["Period", "parse_period", "quarter_of", "month_of", "previous_quarter", "week_start", "period_choices"]


def quarter_of(day: date) -> Period:
    return period_for_date(day, QUARTER)


def month_of(day: date) -> Period:
    return period_for_date(day, MONTH)


def previous_quarter(day: date) -> Period:
    return quarter_of(day).previous()


def week_start(day: date) -> date:
    """Monday of the week `day` falls in."""
    return day - timedelta(days=day.weekday())


def period_choices(today: date | None = None) -> list[str]:
    """Quarters from a year back to a year ahead, and the months of the current quarter, for pickers."""
    current = quarter_of(today or date.today())
    quarters = [current]
    for _ in range(4):
        quarters.insert(0, quarters[0].previous())
        quarters.append(quarters[-1].next())
    months = [month_of(current.start)]
    while months[-1].end < current.end:
        months.append(months[-1].next())
    return [q.key for q in quarters] + [m.key for m in months]
