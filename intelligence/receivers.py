"""What intelligence does on other apps' events.

In process, after commit: make every cached analytics report stale. Celery
side (idempotent consumer): re-score the records whose inputs changed. The
scores are written by the owning apps, which publish `lead.scored` and
`opportunity.scored`; intelligence never listens to those, so a score never
causes another.
"""

from django.conf import settings

from intelligence import analytics, tasks
from intelligence.datasets import closed_context_invalidate
from intelligence.models import Kind
from intelligence.services import rescore_request
from salesapp.events import consumer, on_event

# What a score is computed from: the record itself, its stage and its activities.
RESCORE_EVENTS = (
    "opportunity.created", "opportunity.updated", "opportunity.stage_changed", "opportunity.reopened",
    "lead.created", "lead.updated", "lead.qualified", "lead.merged",
    "activity.logged", "activity.completed", "lead.imported", "activity.imported",
)
# What the analytics reports count: deals, leads and their outcomes, whoever owns them.
CLOSE_EVENTS = ("opportunity.won", "opportunity.lost", "opportunity.reopened")
ANALYTICS_EVENTS = (
    *RESCORE_EVENTS, *CLOSE_EVENTS, "opportunity.deleted", "lead.assigned", "lead.converted", "lead.deleted",
)


def _targets(event: dict) -> list[tuple[str, int]]:
    p = event["payload"]
    out = []
    if p.get("opportunity_id"):
        out.append((Kind.DEAL, int(p["opportunity_id"])))
    if p.get("lead_id"):
        out.append((Kind.LEAD, int(p["lead_id"])))
    out += [(Kind.LEAD, int(pk)) for pk in p.get("lead_ids", ())]
    out += [(Kind.DEAL, int(pk)) for pk, _when in p.get("opportunity_last", ())]
    return out


@on_event(*ANALYTICS_EVENTS)
def invalidate_cached(event: dict) -> None:
    analytics.invalidate()
    if event["name"] in CLOSE_EVENTS:
        closed_context_invalidate()


# The import kinds whose records the learned models learn from.
TRAINING_KINDS = {"leads", "opportunities", "stage_history", "activities"}


@consumer("intelligence.train_after_import", "import.finished")
def train_after_import(event: dict) -> None:
    """A big import of history ends: train every model on it (each reports its examples, or how much more
    history it needs), as a job of its own."""
    payload = event["payload"]
    if payload["created"] >= settings.IMPORT_TRAINING_MIN_ROWS and TRAINING_KINDS & set(payload["kinds"]):
        for kind in Kind.values:
            tasks.model_train_task.delay(kind)


@consumer("intelligence.rescore", *RESCORE_EVENTS)
def rescore(event: dict) -> None:
    # Only asks, with the receipt: the coalesced flush scores, so a failing score never undoes the receipt.
    rescore_request(targets=_targets(event))
