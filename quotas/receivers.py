"""What quotas do when deals close or reopen and activities complete.

In process, right after the commit: forget the cached attainment of everyone
the event can move. On the Celery side, idempotently: re-measure exactly the
quotas the event can move (the same engine as the full recompute), so a
redelivered event finds nothing to change.
"""

from quotas import attainment
from salesapp.events import consumer, on_event
from salesapp.periods import periods_containing

DEAL_EVENTS = ("opportunity.won", "opportunity.lost", "opportunity.reopened")
# A deleted deal is announced as a stage change flagged `deleted` (there is no deletion event).
DELETION = "opportunity.stage_changed"


def _moves_deals(event: dict) -> bool:
    if event["name"] != DELETION:
        return True
    payload = event["payload"]
    return bool(payload.get("deleted")) and payload.get("from_stage") == "closed_won"


def _forget(quotas, user_ids, day) -> None:
    pairs = {(q.user_id, q.period) for q in quotas if q.user_id}
    if day:
        pairs |= {(u, p.key) for u in user_ids for p in periods_containing(day)}
    attainment.cache_invalidate(pairs)


@on_event(*DEAL_EVENTS, DELETION)
def deal_closed_forget_cache(event: dict) -> None:
    if not _moves_deals(event):
        return
    payload = event["payload"]
    owner_id = payload.get("owner_id")
    users = [owner_id, *attainment.ancestors(owner_id)] if owner_id else []
    _forget(attainment.quotas_for_deal(payload), users, attainment.payload_day(payload.get("actual_close_date")))


@on_event("activity.completed", "activity.logged")
def activity_completed_forget_cache(event: dict) -> None:
    payload = event["payload"]
    if event["name"] == "activity.logged" and not payload.get("completed_at"):
        return  # a call or email logged as already done counts; a planned one not yet
    user_id = payload.get("user_id")
    users = [user_id, *attainment.ancestors(user_id)] if user_id else []
    _forget(attainment.quotas_for_activity(payload), users, attainment.payload_day(payload.get("completed_at") or payload.get("occurred_at")))


@consumer("quotas.deal_attainment", *DEAL_EVENTS, DELETION)
def deal_attainment_consumer(event: dict) -> None:
    if not _moves_deals(event):
        return
    quotas = attainment.quotas_for_deal(event["payload"])
    if quotas:
        attainment.quotas_recompute(quota_ids=[q.pk for q in quotas])


@consumer("quotas.activity_attainment", "activity.completed", "activity.logged")
def activity_attainment_consumer(event: dict) -> None:
    if event["name"] == "activity.logged" and not event["payload"].get("completed_at"):
        return
    quotas = attainment.quotas_for_activity(event["payload"])
    if quotas:
        attainment.quotas_recompute(quota_ids=[q.pk for q in quotas])
