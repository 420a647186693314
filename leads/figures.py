"""System reads of leads for the apps above (intelligence's training and scoring): no user, no access rule.

Callers pass the ids they scoped and decide who may read what they derive;
pages and APIs read leads through `leads.selectors` instead.
"""

from __future__ import annotations

from leads.models import Lead, LeadHistory
from leads.scoring import ScoreResult, rules_score


def lead_rows(*, fields: tuple[str, ...], ids=None, statuses=None) -> list[dict]:
    """The leads' `fields` as plain rows, by id (ids=None: every lead).

    A system read for intelligence's training and scoring: the caller scopes ids.
    """
    qs = Lead.objects.all()
    if statuses is not None:
        qs = qs.filter(status__in=list(statuses))
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return list(qs.values(*fields).order_by("id"))


def lead_scores(*, ids) -> dict[int, int]:
    """The stored score of each lead (what every page shows).

    A system read for intelligence's training and scoring: the caller scopes ids.
    """
    return dict(Lead.objects.filter(pk__in=list(ids)).values_list("pk", "score"))


def lead_rule_scores(*, ids) -> dict[int, ScoreResult]:
    """The rule score of each lead, before any learned model.

    A system read for intelligence's training and scoring: the caller scopes ids.
    """
    return {lead.pk: rules_score(lead) for lead in Lead.objects.filter(pk__in=list(ids))}


def lead_status_changes(*, ids) -> list[tuple[int, object, str]]:
    """When the leads entered each status, from their timelines: (lead_id, when, status), oldest first.

    A system read for intelligence's training (when an outcome became known): the caller scopes ids.
    """
    return list(LeadHistory.objects.filter(lead_id__in=list(ids), kind=LeadHistory.Kind.STATUS)
                .order_by("created_at", "id").values_list("lead_id", "created_at", "to_value"))
