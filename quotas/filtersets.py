"""Quota filters shared by the UI and the API."""

import django_filters

from quotas.models import Quota
from salesapp.filters import IdFilter


class QuotaFilter(django_filters.FilterSet):
    user = IdFilter(field_name="user_id")
    territory = IdFilter(field_name="territory_id")
    period = django_filters.CharFilter()
    period_kind = django_filters.ChoiceFilter(
        choices=[("quarter", "Quarter"), ("month", "Month"), ("fiscal_year", "Fiscal year")]
    )
    quota_type = django_filters.ChoiceFilter(choices=Quota.Type.choices)
    type = django_filters.ChoiceFilter(field_name="quota_type", choices=Quota.Type.choices)
    status = django_filters.ChoiceFilter(choices=Quota.Status.choices)
    parent = IdFilter(field_name="parent_id")

    class Meta:
        model = Quota
        fields = ["user", "territory", "period", "period_kind", "quota_type", "type", "status", "parent"]
