import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from salesapp.periods import FISCAL_YEAR, MONTH, QUARTER, parse_period, period_for_date


def test_calendar_quarter_month_and_fiscal_year():
    q = parse_period("Q1_2026")
    assert (q.kind, q.start, q.end) == (QUARTER, dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    m = parse_period("2026-02")
    assert (m.kind, m.start, m.end) == (MONTH, dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    fy = parse_period("FY2026")
    assert (fy.kind, fy.start, fy.end) == (FISCAL_YEAR, dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def test_previous_and_containing_periods():
    assert parse_period("Q1_2026").previous().key == "Q4_2025"
    assert parse_period("2026-01").previous().key == "2025-12"
    assert parse_period("FY2026").previous().key == "FY2025"
    assert period_for_date(dt.date(2026, 8, 15)).key == "Q3_2026"


def test_fiscal_year_starting_in_april_is_named_after_the_year_it_ends(settings):
    settings.FISCAL_YEAR_START_MONTH = 4
    fy = parse_period("FY2026")
    assert (fy.start, fy.end) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    q1 = parse_period("Q1_2026")
    assert (q1.start, q1.end) == (dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    q4 = parse_period("Q4_2026")
    assert (q4.start, q4.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert period_for_date(dt.date(2026, 4, 2)).key == "Q1_2027"
    assert period_for_date(dt.date(2026, 3, 31), FISCAL_YEAR).key == "FY2026"


@pytest.mark.parametrize("bad", ["Q5_2026", "2026-13", "FY26", "", "q1_2026"])
def test_a_bad_period_is_an_error_naming_the_period(bad):
    with pytest.raises(ValidationError) as err:
        parse_period(bad)
    assert "period" in err.value.message_dict
