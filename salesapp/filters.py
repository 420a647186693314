"""Number filters of the house: every django-filter number parameter is one of these, so a value the
database cannot hold (an integer above 2^63, a float like 1e308, NaN) answers 400 naming the
parameter instead of reaching the database. `tests/salesapp/test_bounds.py` walks every filterset.
"""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

MAX_BIGINT = 2**63 - 1
MAX_AMOUNT = 10**18 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_BIGINT})
class IdFilter(django_filters.NumberFilter):
    """A record id (a whole number from 1 to 2^63 - 1)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_BIGINT)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": -MAX_BIGINT, "maximum": MAX_BIGINT})
class IntegerFilter(django_filters.NumberFilter):
    """A whole number the database can hold (64-bit), e.g. a score bound."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -MAX_BIGINT)
        kwargs.setdefault("max_value", MAX_BIGINT)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "number", "minimum": -MAX_AMOUNT, "maximum": MAX_AMOUNT})
class AmountFilter(django_filters.NumberFilter):
    """A money amount: finite, at most 18 digits before the point and 2 after."""

    field_class = forms.DecimalField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 20)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)


BOUNDED_NUMBER_FILTERS = (IdFilter, IntegerFilter, AmountFilter)
