"""Filters shared by the territories page and the API."""

import django_filters

from salesapp.filters import IdFilter
from territories.models import RealignmentJob, Territory, TerritoryModel


class TerritoryFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    model = IdFilter(field_name="model_id")
    parent = IdFilter(field_name="parent_id")
    root = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", label="Top-level only")
    owner = IdFilter(field_name="owner_id")
    active_model = django_filters.BooleanFilter(method="filter_active_model", label="In the active model")

    class Meta:
        model = Territory
        fields = ["name", "model", "parent", "root", "type", "is_active", "owner"]

    def filter_active_model(self, queryset, name, value):
        if value is None:
            return queryset
        op = queryset.filter if value else queryset.exclude
        return op(model__state=TerritoryModel.State.ACTIVE)


class TerritoryModelFilterSet(django_filters.FilterSet):
    class Meta:
        model = TerritoryModel
        fields = ["state"]


class RealignmentJobFilterSet(django_filters.FilterSet):
    model = IdFilter(field_name="model_id")

    class Meta:
        model = RealignmentJob
        fields = ["model", "status", "kind"]
