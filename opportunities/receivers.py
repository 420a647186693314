"""What opportunities does on events and signals: refresh pipeline caches, follow activities, keep the stages."""

from django.utils.dateparse import parse_datetime

from opportunities import selectors
from opportunities.models import LossReason, Stage
from opportunities.services import deals
from opportunities.stages import stages_seed
from salesapp.events import on_event


@on_event("opportunity.created", "opportunity.updated", "opportunity.deleted", "opportunity.stage_changed",
          "opportunity.won", "opportunity.lost", "opportunity.reopened", "opportunity.archived",
          "opportunity.restored")
def pipeline_cache_refresh(event: dict) -> None:
    """Any deal change makes cached pipeline summaries stale, so the next request shows it."""
    selectors.pipeline_invalidate()


@on_event("activity.logged", "activity.completed")
def last_activity_follow(event: dict) -> None:
    """A logged activity moves the deal's and account's `last_activity_at` forward."""
    payload = event["payload"]
    deals.opportunity_touch_activity(
        opportunity_id=payload["opportunity_id"], account_id=payload["account_id"],
        occurred_at=parse_datetime(payload["occurred_at"]),
    )


@on_event("activity.imported")
def last_activity_follow_imported(event: dict) -> None:
    """Imported activities move `last_activity_at` of their deals and accounts forward, one batch at a time."""
    payload = event["payload"]
    for opportunity_id, when in payload["opportunity_last"]:
        deals.opportunity_touch_activity(opportunity_id=opportunity_id, occurred_at=parse_datetime(when))
    for account_id, when in payload["account_last"]:
        deals.opportunity_touch_activity(account_id=account_id, occurred_at=parse_datetime(when))


def stages_ensure(**kwargs) -> None:
    """After migrate: seed the default stages and loss reasons when there are no stages at all.

    The data migration seeds them once; this also brings them back after a database flush
    (as transactional tests do), which keeps migrations' data out.
    """
    if not Stage.objects.exists():
        stages_seed(Stage, LossReason)
