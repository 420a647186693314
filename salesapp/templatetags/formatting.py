"""The one way numbers, money, percentages and periods are shown: `{% load formatting %}`.

- `amount|money`: the install's currency (settings.CURRENCY, an ISO 4217 code, USD unless set) with its
  symbol and no cents; `amount|money:"cents"` keeps the cents.
- `amount|compact` / `amount|compact_money`: 1.2K, 3.4M, 1.1B for dashboards.
- `ratio|percent`: 0.6 -> "60%" (`ratio|percent:1` -> "60.0%").
- `key|period`: "Q4_2026" -> "Q4 2026", "2026-03" -> "Mar 2026".
"""

from decimal import Decimal

from django import template
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma

from salesapp.periods import parse_period

register = template.Library()

# Symbols of the common currencies; any other ISO code is shown before the amount ("CHF 1,200").
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "KRW": "₩", "BRL": "R$",
           "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "MXN": "MX$", "ILS": "₪", "PLN": "zł ", "SEK": "kr ", "NOK": "kr ",
           "DKK": "kr "}
EMPTY = "—"


def _symbol() -> str:
    return SYMBOLS.get(settings.CURRENCY, f"{settings.CURRENCY} ")


@register.filter
def money(value, cents: str = ""):
    """An amount in the install's currency: "$48,000", or "$48,000.50" when asked for cents."""
    if value in (None, ""):
        return EMPTY
    amount = Decimal(value)
    digits = 2 if cents == "cents" else 0
    sign = "-" if amount < 0 else ""
    return f"{sign}{_symbol()}{intcomma(f'{abs(amount):.{digits}f}')}"


def _compact(value) -> str:
    amount = Decimal(value)
    for limit, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K")):
        if abs(amount) >= limit:
            return f"{amount / limit:.1f}".removesuffix(".0") + suffix
    return f"{amount:.0f}"


@register.filter
def compact(value):
    """A count or amount in a few characters: 1,240 -> "1.2K", 3,400,000 -> "3.4M"."""
    return EMPTY if value in (None, "") else _compact(value)


@register.filter
def compact_money(value):
    """An amount in the install's currency, compact: "$3.4M"."""
    if value in (None, ""):
        return EMPTY
    text = _compact(value)
    return f"-{_symbol()}{text[1:]}" if text.startswith("-") else f"{_symbol()}{text}"


@register.filter
def percent(ratio, digits: int = 0):
    """A ratio (0 to 1) as a percentage: 0.6 -> "60%"."""
    if ratio in (None, ""):
        return EMPTY
    return f"{Decimal(ratio) * 100:.{int(digits)}f}%"


@register.filter
def period(key):
    """A period key as people write it: "Q4_2026" -> "Q4 2026"."""
    return parse_period(str(key)).label


@register.filter
def score_unit(model_label) -> str:
    """How a score reads beside its number: a learned model's score is a calibrated probability ("%"); a rule
    score ("Rules v1", before any model is promoted) is points out of 100 ("pts"), not a chance."""
    return " pts" if str(model_label or "").startswith("Rules") else "%"
