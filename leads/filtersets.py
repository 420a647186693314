"""One filter set for the lead list page, the API list and the exports."""

import django_filters
from django import forms

from leads.models import Lead
from salesapp.filters import IdFilter, IntegerFilter
from salesapp.search import search_filter


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    # distinct=False: a status IN (...) never duplicates rows, and DISTINCT would defeat the (status, -id) index.
    status = django_filters.MultipleChoiceFilter(choices=Lead.Status.choices, widget=forms.SelectMultiple, distinct=False)
    source = django_filters.CharFilter(lookup_expr="iexact")
    assigned_to = IdFilter(field_name="assigned_to_id", label="Owner")
    unassigned = django_filters.BooleanFilter(field_name="assigned_to", lookup_expr="isnull", label="Unassigned")
    territory_id = IdFilter(field_name="territory_id", label="Territory")
    score_min = IntegerFilter(field_name="score", lookup_expr="gte", label="Score from")
    score_max = IntegerFilter(field_name="score", lookup_expr="lte", label="Score to")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    created_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="Created from")
    created_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="Created to")

    class Meta:
        model = Lead
        fields = ["status", "source", "assigned_to", "territory_id"]

    def search(self, queryset, name, value):
        return search_filter(queryset, value)
