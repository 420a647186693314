"""Periods shared by forecasts and quotas: fiscal quarters `Q1_2026`, months `2026-03`, fiscal years `FY2026`.

The fiscal year starts in `settings.FISCAL_YEAR_START_MONTH` (1 = January, the
default). A fiscal year is named after the calendar year it ends in, so with a
start month of 4, FY2026 runs from 1 April 2025 to 31 March 2026 and Q1_2026 is
April-June 2025. Months are always calendar months.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError

QUARTER, MONTH, FISCAL_YEAR = "quarter", "month", "fiscal_year"

_QUARTER_RE = re.compile(r"^Q([1-4])_(\d{4})$")
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_FY_RE = re.compile(r"^FY(\d{4})$")


def fiscal_start_month() -> int:
    month = int(settings.FISCAL_YEAR_START_MONTH)
    if not 1 <= month <= 12:
        raise ValueError("FISCAL_YEAR_START_MONTH must be between 1 and 12")
    return month


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> date:
    y, m = _add_months(year, month, 1)
    return date(y, m, 1) - timedelta(days=1)


def _fiscal_year_start(fy: int) -> tuple[int, int]:
    start = fiscal_start_month()
    return (fy, 1) if start == 1 else (fy - 1, start)


@dataclass(frozen=True)
class Period:
    """One named stretch of time a quota or a forecast is measured over (inclusive dates)."""

    key: str
    kind: str
    start: date
    end: date

    def __str__(self) -> str:
        return self.key

    @property
    def name(self) -> str:
        return self.key

    def is_closed(self, today: date | None = None) -> bool:
        """Whether the period has ended."""
        return (today or date.today()) > self.end

    @property
    def label(self) -> str:
        if self.kind == QUARTER:
            return self.key.replace("_", " ")
        if self.kind == MONTH:
            return self.start.strftime("%b %Y")
        return self.key

    def previous(self) -> "Period":
        """The period of the same kind just before this one."""
        return period_for_date(self.start - timedelta(days=1), self.kind)

    def next(self) -> "Period":
        return period_for_date(self.end + timedelta(days=1), self.kind)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def parse_period(key: str) -> Period:
    """The Period a key names; a ValidationError naming `period` otherwise."""
    key = (key or "").strip()
    if m := _QUARTER_RE.match(key):
        quarter, fy = int(m.group(1)), int(m.group(2))
        y, mo = _add_months(*_fiscal_year_start(fy), 3 * (quarter - 1))
        ey, em = _add_months(y, mo, 2)
        return Period(key, QUARTER, date(y, mo, 1), _month_end(ey, em))
    if m := _MONTH_RE.match(key):
        y, mo = int(m.group(1)), int(m.group(2))
        return Period(key, MONTH, date(y, mo, 1), _month_end(y, mo))
    if m := _FY_RE.match(key):
        y, mo = _fiscal_year_start(int(m.group(1)))
        ey, em = _add_months(y, mo, 11)
        return Period(key, FISCAL_YEAR, date(y, mo, 1), _month_end(ey, em))
    raise ValidationError({"period": [f"{key!r} is not a period: use Q1_2026, 2026-03 or FY2026."]})


def fiscal_year_of(day: date) -> int:
    start = fiscal_start_month()
    if start == 1:
        return day.year
    return day.year + 1 if day.month >= start else day.year


def period_for_date(day: date, kind: str = QUARTER) -> Period:
    """The period of `kind` that contains `day`."""
    if kind == MONTH:
        return parse_period(f"{day.year:04d}-{day.month:02d}")
    fy = fiscal_year_of(day)
    if kind == FISCAL_YEAR:
        return parse_period(f"FY{fy}")
    quarter = ((day.month - fiscal_start_month()) % 12) // 3 + 1
    return parse_period(f"Q{quarter}_{fy}")


def periods_containing(day: date) -> list[Period]:
    """The quarter, month and fiscal year that contain `day`."""
    return [period_for_date(day, kind) for kind in (QUARTER, MONTH, FISCAL_YEAR)]


def current_quarter(today: date | None = None) -> Period:
    from django.utils import timezone

    return period_for_date(today or timezone.localdate(), QUARTER)


def period_choices(around: date | None = None, *, back: int = 4, ahead: int = 2) -> list[Period]:
    """Quarters around today, then the fiscal year, for period pickers."""
    current = current_quarter(around)
    periods = [current]
    for _ in range(back):
        periods.insert(0, periods[0].previous())
    for _ in range(ahead):
        periods.append(periods[-1].next())
    fy = period_for_date(current.start, FISCAL_YEAR)
    return periods + [fy.previous(), fy, fy.next()]
