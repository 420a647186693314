"""What quotas do when deals and activities change: re-measure exactly the quotas the event can move.

Consumers run on the Celery side, once per event (receipts), with the same
engine as the hourly recompute, so a redelivered event finds nothing to change;
the recompute forgets the cached attainment of the quotas it changed.

A deal moves attainment when it is won, lost or reopened, when a won deal's
amount, owner, territory or close date changes (`opportunity.updated`), and when
a won deal is deleted.
"""

from quotas import attainment, sources
from salesapp.events import consumer

DEAL_EVENTS = ("opportunity.won", "opportunity.lost", "opportunity.reopened", "opportunity.updated",
               "opportunity.deleted")
# The fields of a won deal that attainment is measured on.
MEASURED_FIELDS = {"amount", "owner", "territory", "actual_close_date"}


def _deal_quotas(event: dict) -> list:
    """The quotas a deal event can move (none for changes that do not touch a won deal's figures)."""
    payload = event["payload"]
    if event["name"] in ("opportunity.won", "opportunity.lost", "opportunity.reopened"):
        return attainment.quotas_for_deal(payload)
    if not sources.is_won_stage(payload["stage"]):
        return []
    if event["name"] == "opportunity.deleted":
        return attainment.quotas_for_deal(payload)
    # `fields` names model fields; "owner_id" and "owner" are the same fact.
    fields = {name.removesuffix("_id") for name in payload["fields"]} & MEASURED_FIELDS
    if not fields:
        return []
    return attainment.quotas_for_deal(payload, any_holder=bool(fields & {"owner", "territory"}),
                                      any_period="actual_close_date" in fields)


@consumer("quotas.deal_attainment", *DEAL_EVENTS)
def deal_attainment_consumer(event: dict) -> None:
    quotas = _deal_quotas(event)
    if quotas:
        attainment.quotas_recompute(quota_ids=[q.pk for q in quotas])


# The fields of an activity that activity quotas are measured on.
MEASURED_ACTIVITY_FIELDS = {"completed_at", "user_id", "type"}


@consumer("quotas.activity_attainment", "activity.completed", "activity.logged", "activity.updated",
          "activity.deleted")
def activity_attainment_consumer(event: dict) -> None:
    payload = event["payload"]
    if event["name"] in ("activity.logged", "activity.deleted") and not payload["completed_at"]:
        return  # a call or email logged as already done counts; a planned one not yet
    if event["name"] == "activity.updated" and not MEASURED_ACTIVITY_FIELDS & set(payload["fields"]):
        return
    quotas = attainment.quotas_for_activity(payload)
    if quotas:
        attainment.quotas_recompute(quota_ids=[q.pk for q in quotas])
