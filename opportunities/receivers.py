"""What opportunities does on events: refresh pipeline caches, follow activities."""

from django.utils.dateparse import parse_datetime

from opportunities import selectors, services
from salesapp.events import on_event


@on_event("opportunity.created", "opportunity.stage_changed", "opportunity.won", "opportunity.lost",
          "opportunity.reopened")
def pipeline_cache_refresh(event: dict) -> None:
    """Any deal change makes cached pipeline summaries stale, so the next request shows it."""
    selectors.pipeline_invalidate()


@on_event("activity.logged", "activity.completed")
def last_activity_follow(event: dict) -> None:
    """A logged activity moves the deal's and account's `last_activity_at` forward."""
    payload = event["payload"]
    occurred = payload.get("occurred_at")
    occurred_at = parse_datetime(occurred) if isinstance(occurred, str) else occurred
    if occurred_at is None:
        return
    services.opportunity_touch_activity(
        opportunity_id=payload.get("opportunity_id"), account_id=payload.get("account_id"), occurred_at=occurred_at
    )
