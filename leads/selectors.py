"""Reads for leads; every one applies the access rule (a lead the user may not see answers 404)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from leads.models import Lead, LeadHistory
from salesapp.access import VIEW
from salesapp.assignment import assignable_users
from salesapp.models import User

LIST_COLUMNS = (
    "id", "status", "source", "first_name", "last_name", "email", "phone", "company", "title", "industry",
    "employee_count", "annual_revenue", "country", "state", "postal_code", "score", "score_model",
    "assigned_to", "territory_id", "converted_opportunity_id", "last_activity_at", "created_at", "updated_at",
)
EXPORT_COLUMNS = (
    "id", "status", "source", "first_name", "last_name", "email", "phone", "company", "title", "industry",
    "employee_count", "annual_revenue", "website", "country", "state", "postal_code", "score",
    "assigned_to__email", "territory__name", "assignment_reason", "converted_opportunity_id", "last_activity_at",
    "created_at",
)


def lead_list(*, user, action: str = VIEW, include_merged: bool = False) -> QuerySet[Lead]:
    """The leads `user` may see (merged-away leads only when asked)."""
    qs = Lead.objects.restrict(user, action)
    return qs if include_merged else qs.filter(merged_into__isnull=True)


def lead_get(*, user, pk, action: str = VIEW) -> Lead:
    """The lead `pk` if `user` may do `action` on it (merged-away leads included), else 404."""
    qs = Lead.objects.restrict(user, action).select_related("assigned_to", "territory", "merged_into")
    return get_object_or_404(qs, pk=pk)


def lead_rows(*, queryset: QuerySet[Lead]) -> QuerySet:
    """Plain rows for the hot list endpoint from a queryset already restricted: only the listed columns."""
    return queryset.values(*LIST_COLUMNS)


def lead_history(*, user, lead: Lead, limit: int = 100) -> list[LeadHistory]:
    """The history lines of a lead `user` may see (merged-away leads included), newest first."""
    visible = lead_list(user=user, include_merged=True).filter(pk=lead.pk)
    return list(LeadHistory.objects.filter(lead__in=visible).select_related("actor")[:limit])


def lead_owner_choices(*, user, lead: Lead | None = None) -> QuerySet[User]:
    """Whom `user` may give a lead to (the kernel's assignment policy), plus the lead's current owner:
    saving a lead back with its owner unchanged is not a new pick."""
    choices = assignable_users(user)
    if lead is None or lead.assigned_to_id is None:
        return choices
    return choices | User.objects.filter(pk=lead.assigned_to_id)


def history_entries(*, lead_ids: list[int], before=None, limit: int = 50) -> list[LeadHistory]:
    """System read for the activities timeline, which passes only the ids of leads the viewer may see."""
    qs = LeadHistory.objects.filter(lead_id__in=lead_ids)
    if before is not None:
        qs = qs.filter(created_at__lte=before)
    return list(qs.select_related("actor").order_by("-created_at", "-id")[:limit])


def lead_ids_by_external_id(external_ids, *, user) -> dict[str, int]:
    """Leads by their id in the system they were imported from, among those `user` may see."""
    qs = Lead.objects.restrict(user, VIEW).filter(external_id__in=set(external_ids) - {""})
    return dict(qs.values_list("external_id", "id"))
