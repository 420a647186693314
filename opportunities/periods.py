"""Forecast periods: quarters named like ``Q1_2026`` and months named like ``2026-01``."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError

_QUARTER = re.compile(r"^Q([1-4])_(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    """A named forecast period and its first and last day (inclusive)."""

    name: str
    start: date
    end: date

    def is_closed(self, today: date | None = None) -> bool:
        return (today or date.today()) > self.end


def parse_period(name: str) -> Period:
    """`Q1_2026` -> Jan 1..Mar 31 2026; `2026-02` -> Feb 1..28 2026. Anything else is refused."""
    name = (name or "").strip()
    if m := _QUARTER.match(name.upper()):
        quarter, year = int(m.group(1)), int(m.group(2))
        first_month = 3 * (quarter - 1) + 1
        last_month = first_month + 2
        return Period(
            f"Q{quarter}_{year}", date(year, first_month, 1), date(year, last_month, calendar.monthrange(year, last_month)[1])
        )
    if m := _MONTH.match(name):
        year, month = int(m.group(1)), int(m.group(2))
        return Period(name, date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))
    raise ValidationError({"period": ["Use a quarter like Q1_2026 or a month like 2026-01."]})


def quarter_of(day: date) -> Period:
    return parse_period(f"Q{(day.month - 1) // 3 + 1}_{day.year}")


def month_of(day: date) -> Period:
    return parse_period(f"{day.year}-{day.month:02d}")


def previous_quarter(day: date) -> Period:
    return quarter_of(quarter_of(day).start - timedelta(days=1))


def week_start(day: date) -> date:
    """Monday of the week `day` falls in."""
    return day - timedelta(days=day.weekday())


def period_choices(today: date | None = None) -> list[str]:
    """Quarters from last year to next, and the months of the current quarter, for pickers."""
    today = today or date.today()
    names = [f"Q{q}_{y}" for y in (today.year - 1, today.year, today.year + 1) for q in (1, 2, 3, 4)]
    quarter = quarter_of(today)
    names += [f"{quarter.start.year}-{m:02d}" for m in range(quarter.start.month, quarter.start.month + 3)]
    return names
