"""Number and time filters of the house: every django-filter number or date-time parameter is one of
these, so a value the database cannot hold (an integer above 2^63, a float like 1e308, NaN, a time
zone offset PostgreSQL refuses) answers 400 naming the parameter instead of reaching the database.
`tests/salesapp/test_bounds.py` walks every filterset.
"""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

MAX_BIGINT = 2**63 - 1
MAX_AMOUNT = 10**18 - 1


class _BoundedFilter(django_filters.NumberFilter):
    """A number filter whose form field refuses values outside `bounds` (and non-finite ones)."""

    field_class = forms.IntegerField
    bounds: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**self.bounds, **kwargs})


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_BIGINT})
class IdFilter(_BoundedFilter):
    """A record id (a whole number from 1 to 2^63 - 1)."""

    bounds = {"min_value": 1, "max_value": MAX_BIGINT}


@extend_schema_field({"type": "integer", "minimum": -MAX_BIGINT, "maximum": MAX_BIGINT})
class IntegerFilter(_BoundedFilter):
    """A whole number the database can hold (64-bit), e.g. a score bound."""

    bounds = {"min_value": -MAX_BIGINT, "max_value": MAX_BIGINT}


@extend_schema_field({"type": "number", "minimum": -MAX_AMOUNT, "maximum": MAX_AMOUNT})
class AmountFilter(_BoundedFilter):
    """A money amount: finite, at most 18 digits before the point and 2 after."""

    field_class = forms.DecimalField
    bounds = {"max_digits": 20, "decimal_places": 2}


BOUNDED_NUMBER_FILTERS = (IdFilter, IntegerFilter, AmountFilter)


class _UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, handed on in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO allows."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(dt.UTC)
        except (OverflowError, ValueError) as exc:
            raise ValidationError("Enter a date and time between the years 1 and 9999.", code="invalid") from exc


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """A point in time (ISO 8601, any offset), compared in UTC."""

    field_class = _UtcIsoDateTimeField
