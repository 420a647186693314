"""Amounts, counts, percentages and periods are shown one way everywhere (salesapp/templatetags/formatting.py)."""

from decimal import Decimal

from django.template import Context, Template


def render(text: str, **context) -> str:
    return Template("{% load formatting %}" + text).render(Context(context))


def test_amounts_show_the_currency_symbol_and_no_cents_unless_asked(settings):
    assert render("{{ a|money }}", a=Decimal("17544962.00")) == "$17,544,962"
    assert render('{{ a|money:"cents" }}', a=Decimal("48000.5")) == "$48,000.50"
    assert render("{{ a|money }}", a=None) == "—"
    settings.CURRENCY = "EUR"
    assert render("{{ a|money }}", a=-1250) == "-€1,250"
    settings.CURRENCY = "CHF"
    assert render("{{ a|money }}", a=900) == "CHF 900"


def test_dashboards_show_compact_numbers():
    assert render("{{ a|compact }} {{ b|compact }} {{ c|compact }} {{ d|compact }}", a=950, b=1250, c=3_400_000,
                  d=2_000_000_000) == "950 1.2K 3.4M 2B"
    assert render("{{ a|compact_money }}", a=Decimal("3400000")) == "$3.4M"


def test_ratios_show_as_percentages_and_periods_as_people_write_them():
    assert render("{{ r|percent }} {{ r|percent:1 }}", r=0.6) == "60% 60.0%"
    assert render("{{ p|period }} {{ m|period }}", p="Q4_2026", m="2026-03") == "Q4 2026 Mar 2026"
