"""One filter set for the lead list page, the API list and the exports."""

import django_filters
from django import forms
from django.db.models import Q

from leads.models import Lead
from salesapp.filters import DateTimeFilter, IdFilter, IntegerFilter
from salesapp.lists import SortedFilterSet
from salesapp.search import SearchFilterSet


class LeadFilter(SortedFilterSet, SearchFilterSet):
    """`search` (or `q`) matches names, emails, companies and phones through the search engine; `is_open`
    keeps the leads still being worked (neither converted nor unqualified)."""

    sorts = {"created_at": ("created_at",), "score": ("score",), "last_name": ("last_name", "first_name"),
             "company": ("company",), "status": ("status",), "updated_at": ("updated_at",),
             "last_activity_at": ("last_activity_at",), "id": ("id",)}
    is_open = django_filters.BooleanFilter(method="still_open", label="Open")

    # distinct=False: a status IN (...) never duplicates rows, and DISTINCT would defeat the (status, -id) index.
    status = django_filters.MultipleChoiceFilter(choices=Lead.Status.choices, widget=forms.SelectMultiple, distinct=False)
    source = django_filters.CharFilter(lookup_expr="iexact")
    assigned_to = IdFilter(field_name="assigned_to_id", label="Owner")
    unassigned = django_filters.BooleanFilter(field_name="assigned_to", lookup_expr="isnull", label="Unassigned")
    territory_id = IdFilter(field_name="territory_id", label="Territory")
    score_min = IntegerFilter(field_name="score", lookup_expr="gte", label="Score from")
    score_max = IntegerFilter(field_name="score", lookup_expr="lte", label="Score to")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lte")
    created_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="Created from")
    created_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="Created to")

    class Meta:
        model = Lead
        fields = ["status", "source", "assigned_to", "territory_id", "external_id"]

    def still_open(self, queryset, name, value):
        if value is None:
            return queryset
        closed = Q(status__in=Lead.CLOSED_STATUSES)
        return queryset.exclude(closed) if value else queryset.filter(closed)
