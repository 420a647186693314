"""The lead's own history as timeline entries, for the activities app's timeline."""

from activities.timeline import TimelineEntry
from leads.selectors import history_entries

KINDS = {"status": "status_changed", "scored": "score_changed"}
TITLES = {
    "created": "Lead created", "status": "Status changed", "assigned": "Assigned", "scored": "Score changed",
    "converted": "Converted", "merged": "Merged",
}


def lead_history_entries(ids, before, limit):
    """The history lines of the leads `ids` (the timeline passes only leads the viewer may see)."""
    entries = []
    for h in history_entries(lead_ids=list(ids), before=before, limit=limit):
        if h.kind == "status":
            title = f"Status: {h.from_value} → {h.to_value}"
        elif h.kind == "assigned":
            title = f"Assigned to {h.to_value}" if h.to_value else "Unassigned"
        elif h.kind == "scored":
            title = f"Score {h.from_value} → {h.to_value}"
        else:
            title = TITLES.get(h.kind, h.kind)
        entries.append(TimelineEntry(
            time=h.created_at, kind=KINDS.get(h.kind, h.kind), title=title, detail=h.detail, actor_id=h.actor_id,
            refs={"lead_id": h.lead_id}, key=f"leadhistory:{h.pk}",
        ))
    return entries
