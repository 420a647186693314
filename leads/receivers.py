"""What leads do on other apps' events."""

from django.utils.dateparse import parse_datetime

from leads import services
from salesapp.events import on_event


@on_event("activity.logged")
def lead_activity_logged_receiver(event: dict) -> None:
    """An activity on a lead counts as engagement: last activity time, count and score move."""
    payload = event["payload"]
    lead_id = payload.get("lead_id")
    if not lead_id:
        return
    occurred = payload.get("occurred_at")
    occurred_at = parse_datetime(occurred) if isinstance(occurred, str) else occurred
    services.lead_activity_logged(lead_id=int(lead_id), occurred_at=occurred_at)


@on_event("activity.imported")
def lead_activities_imported_receiver(event: dict) -> None:
    """Imported activities count on their leads like logged ones (once per batch)."""
    services.leads_activities_added(counts={pk: (n, parse_datetime(when))
                                            for pk, n, when in event["payload"]["lead_counts"]})


@on_event("activity.deleted", "activity.updated")
def lead_activity_changed_receiver(event: dict) -> None:
    """A deleted activity, or one moved onto the lead or in time, changes its count, latest time and score."""
    payload = event["payload"]
    moved = event["name"] == "activity.deleted" or {"lead_id", "occurred_at"} & set(payload["fields"])
    if payload["lead_id"] and moved:
        services.lead_activity_recount(lead_id=int(payload["lead_id"]))
