"""History and realignment providers that opportunities gives the apps below it."""

from __future__ import annotations

from opportunities.models import Account, Opportunity, StageHistory


def opportunity_history_entries(ids, *args, **kwargs) -> list[dict]:
    """Stage changes of the given deals as timeline entries (newest first)."""
    if isinstance(ids, int | str):
        ids = [int(ids)]
    rows = (
        StageHistory.objects.filter(opportunity_id__in=list(ids))
        .select_related("changed_by")
        .order_by("-changed_at", "-id")
    )
    entries = []
    for h in rows:
        if h.note == "created" and not h.from_stage:
            text = f"Opportunity created in {h.to_stage.replace('_', ' ')}"
        elif h.note == "reopened":
            text = f"Reopened from {h.from_stage.replace('_', ' ')} to {h.to_stage.replace('_', ' ')}"
        else:
            text = f"Stage {h.from_stage.replace('_', ' ')} → {h.to_stage.replace('_', ' ')}"
            if h.days_in_previous_stage is not None:
                text += f" after {h.days_in_previous_stage} days"
        entries.append({
            "kind": "stage_change",
            "type": "stage_change",
            "occurred_at": h.changed_at,
            "opportunity_id": h.opportunity_id,
            "user_id": h.changed_by_id,
            "user": str(h.changed_by) if h.changed_by else "",
            "summary": text,
            "subject": text,
            "from_stage": h.from_stage,
            "to_stage": h.to_stage,
        })
    return entries


def account_realignment_provider():
    return {"model": Account, "queryset": Account.objects.all}


def opportunity_realignment_provider():
    return {"model": Opportunity, "queryset": lambda: Opportunity.objects.filter(stage__is_closed=False)}
