"""Filters shared by the UI lists and the API."""

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q

from opportunities.models import Account, Contact, Opportunity, Stage
from opportunities.periods import parse_period
from salesapp.crypto import blind_index
from salesapp.filters import AmountFilter, DateTimeFilter, IdFilter
from salesapp.hierarchy import user_subtree_ids
from salesapp.lists import SortedFilterSet
from salesapp.search import SearchFilterSet
from territories.selectors import territory_subtree_ids


def _period_key(value: str) -> None:
    """A close period the filter understands (Q1_2026, 2026-01 or FY2026); the form reports others."""
    try:
        parse_period(value)
    except ValidationError as exc:  # parse_period names its own field; a form field's validator names none
        raise ValidationError(exc.messages)


class AccountFilterSet(SortedFilterSet, SearchFilterSet):
    sorts = {"name": ("name",), "created_at": ("created_at",), "annual_revenue": ("annual_revenue",),
             "industry": ("industry",), "billing_country": ("billing_country",), "id": ("id",)}
    owner = IdFilter(field_name="owner_id")
    territory = IdFilter(field_name="territory_id")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    billing_country = django_filters.CharFilter(lookup_expr="iexact")
    parent = IdFilter(field_name="parent_id")

    class Meta:
        model = Account
        fields = ["q", "owner", "territory", "industry", "billing_country", "parent", "external_id"]


class ContactFilterSet(SortedFilterSet, SearchFilterSet):
    sorts = {"last_name": ("last_name", "first_name"), "email": ("email",), "title": ("title",),
             "created_at": ("created_at",), "id": ("id",)}
    account = IdFilter(field_name="account_id")
    owner = IdFilter(field_name="owner_id")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    buying_role = django_filters.ChoiceFilter(choices=Contact.BuyingRole.choices)
    email = django_filters.CharFilter(method="with_email", help_text="Exact email (case does not count)")

    class Meta:
        model = Contact
        fields = ["q", "account", "buying_role", "email", "external_id"]

    def with_email(self, queryset, name, value):
        """Emails are encrypted: the typed one is compared through its blind index."""
        return queryset.filter(email_blind_index=blind_index("email", value))


class OpportunityFilterSet(SortedFilterSet, SearchFilterSet):
    sorts = {"name": ("name",), "amount": ("amount",), "expected_close_date": ("expected_close_date",),
             "probability": ("probability",), "created_at": ("created_at",), "id": ("id",)}
    stage = django_filters.ModelMultipleChoiceFilter(field_name="stage", to_field_name="key",
                                                     queryset=Stage.objects.order_by("order"))
    is_open = django_filters.BooleanFilter(field_name="stage__is_closed", exclude=True, label="Open")
    owner = IdFilter(field_name="owner_id")
    team = IdFilter(method="in_team", label="Manager's team (user id)")
    territory = IdFilter(method="in_territory", label="Territory (and below)")
    territory_id = IdFilter(field_name="territory_id", label="Territory (this one only)")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    account = IdFilter(field_name="account_id")
    forecast_category = django_filters.MultipleChoiceFilter(choices=Opportunity.ForecastCategory.choices)
    category = django_filters.MultipleChoiceFilter(field_name="forecast_category",
                                                   choices=Opportunity.ForecastCategory.choices)
    close_after = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="gte")
    close_before = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="lte")
    expected_close_date_after = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="gte")
    expected_close_date_before = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="lte")
    close_period = django_filters.CharFilter(method="in_period", label="Close period (Q1_2026 or 2026-01)",
                                             validators=[_period_key])
    min_amount = AmountFilter(field_name="amount", lookup_expr="gte")
    max_amount = AmountFilter(field_name="amount", lookup_expr="lte")

    class Meta:
        model = Opportunity
        fields = ["q", "stage", "is_open", "owner", "team", "territory", "account", "forecast_category",
                  "external_id"]

    def in_team(self, queryset, name, value):
        return queryset.filter(owner_id__in=user_subtree_ids(int(value))) if value else queryset

    def in_territory(self, queryset, name, value):
        return queryset.filter(territory_id__in=territory_subtree_ids(int(value))) if value else queryset

    def in_period(self, queryset, name, value):
        if not value:
            return queryset
        period = parse_period(value)
        closed = Q(stage__is_closed=True, actual_close_date__gte=period.start, actual_close_date__lte=period.end)
        open_ = Q(stage__is_closed=False, expected_close_date__gte=period.start, expected_close_date__lte=period.end)
        return queryset.filter(closed | open_)
