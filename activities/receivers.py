"""What the activities app does on other apps' events."""

from activities.services import activities_relink
from salesapp.events import on_event


@on_event("lead.merged")
def move_merged_leads_activities(event: dict) -> None:
    """A merged lead's activities move to the lead it was merged into."""
    payload = event["payload"]
    activities_relink(kind="lead", from_id=payload["merged_lead_id"], to_id=payload["lead_id"])
