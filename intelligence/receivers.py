"""What intelligence does on other apps' events.

In process, after commit: drop the cached score of the record and make every
cached analytics report stale. Celery side (idempotent consumer): re-score
the records whose inputs changed.
"""

from django.db import transaction

from intelligence import analytics
from intelligence.datasets import closed_context_invalidate
from intelligence.services import score_invalidate
from salesapp.events import consumer, on_event

DEAL_EVENTS = ("opportunity.created", "opportunity.stage_changed", "opportunity.won", "opportunity.lost",
               "opportunity.reopened")
LEAD_EVENTS = ("lead.created", "lead.qualified", "lead.assigned", "lead.converted")
ACTIVITY_EVENTS = ("activity.logged", "activity.completed")


def _targets(event: dict) -> list[tuple[str, int]]:
    p = event["payload"]
    out = []
    if p.get("opportunity_id"):
        out.append(("deal", int(p["opportunity_id"])))
    if p.get("lead_id"):
        out.append(("lead", int(p["lead_id"])))
    return out


@on_event(*DEAL_EVENTS, *LEAD_EVENTS, *ACTIVITY_EVENTS)
def invalidate_cached(event: dict) -> None:
    for kind, rid in _targets(event):
        score_invalidate(kind, rid)
    analytics.invalidate()
    if event["name"] in ("opportunity.won", "opportunity.lost", "opportunity.reopened"):
        closed_context_invalidate()


@consumer("intelligence.rescore", *DEAL_EVENTS, *LEAD_EVENTS, *ACTIVITY_EVENTS)
def rescore(event: dict) -> None:
    from intelligence.tasks import score_refresh_task

    targets = _targets(event)
    # After the receipt commits, so a failing score never undoes the receipt or other consumers.
    for kind, rid in targets:
        transaction.on_commit(lambda kind=kind, rid=rid: score_refresh_task.delay(kind, [rid]))
