"""Reads for leads; every one applies the access rule (a lead the user may not see answers 404)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from leads.models import Lead, LeadHistory
from salesapp.access import VIEW
from salesapp.models import User

LIST_COLUMNS = (
    "id", "status", "source", "first_name", "last_name", "email", "phone", "company", "title", "industry",
    "employee_count", "annual_revenue", "country", "state", "postal_code", "score", "assigned_to",
    "territory_id", "converted_opportunity_id", "last_activity_at", "created_at", "updated_at",
)
EXPORT_COLUMNS = (
    "id", "status", "source", "first_name", "last_name", "email", "phone", "company", "title", "industry",
    "employee_count", "annual_revenue", "website", "country", "state", "postal_code", "score",
    "assigned_to__email", "territory__name", "assignment_reason", "converted_opportunity_id", "last_activity_at",
    "created_at",
)


def lead_list(*, user, action: str = VIEW, include_merged: bool = False) -> QuerySet[Lead]:
    """The leads `user` may see (merged-away leads only when asked)."""
    qs = Lead.objects.all()
    if not include_merged:
        qs = qs.filter(merged_into__isnull=True)
    return qs.restrict(user, action)


def lead_get(*, user, pk, action: str = VIEW) -> Lead:
    qs = Lead.objects.select_related("assigned_to", "territory", "merged_into").restrict(user, action)
    return get_object_or_404(qs, pk=pk)


def lead_rows(queryset: QuerySet[Lead]) -> QuerySet:
    """Plain rows for the hot list endpoint: only the listed columns, no model instances."""
    return queryset.values(*LIST_COLUMNS)


def lead_export_rows(queryset: QuerySet[Lead]):
    return queryset.values_list(*EXPORT_COLUMNS).iterator(chunk_size=2000)


def lead_history(*, lead: Lead, limit: int = 100) -> list[LeadHistory]:
    return list(lead.history.select_related("actor")[:limit])


def lead_assignable_users(*, user) -> QuerySet[User]:
    """Active users who may own leads (writers)."""
    return User.objects.filter(is_active=True, role__in=["admin", "sales_manager", "sales_rep"]).order_by(
        "first_name", "last_name", "email")


def history_entries(lead_ids: list[int], before=None, limit: int = 50) -> list[LeadHistory]:
    qs = LeadHistory.objects.filter(lead_id__in=lead_ids)
    if before is not None:
        qs = qs.filter(created_at__lte=before)
    return list(qs.select_related("actor").order_by("-created_at", "-id")[:limit])
