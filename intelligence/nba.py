"""Next best action: situations worth acting on, ranked, each with its reason.

Thresholds come from the pipeline's own history (won deals), not constants:
a deal is "quiet" when its silence is longer than the usual gap between
activities on won deals in the same stage, "stuck" past the 75th percentile
of the time won deals spent in that stage. What users did with earlier
advice ranks later advice: a dismissed situation is not raised again on the
same record for a while, and situations that are often dismissed rank lower.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from intelligence import sources
from intelligence.datasets import scoring_set
from intelligence.features import DAY, stage_as_of
from intelligence.models import Kind, Recommendation
from intelligence.sources import Pipeline, ts
from salesapp import cache
from salesapp.locks import rows_lock

DEFAULT_GAP_DAYS = 14.0
DEFAULT_STUCK_DAYS = 30.0
MIN_SAMPLES = 5
REMEMBER_DAYS = 30
HIGH_SCORE = 70
STATS_KEY = "intelligence:pipeline-stats"

BASE_PRIORITY = {
    "close_date_past": 0.9, "no_recent_activity": 0.85, "first_contact": 0.85, "stuck_in_stage": 0.8,
    "high_score_no_meeting": 0.75, "single_contact": 0.6, "no_next_step": 0.5,
}


def pipeline_stats(pipeline: Pipeline) -> dict:
    """Per stage: usual activity gap and 75th-percentile time in stage on won deals (cached an hour)."""
    stats = cache.get(STATS_KEY)
    if stats is not None:
        return stats
    won = sources.deal_rows(stages=pipeline.won)
    ids = [r["id"] for r in won]
    history = sources.stage_history(ids)
    acts = sources.activities("opportunity", ids)
    in_stage, gaps = defaultdict(list), defaultdict(list)
    for r in won:
        created = ts(r["created_at"])
        prev = created
        for when, frm, _to in history.get(r["id"], []):
            if frm:
                in_stage[frm].append((when - prev) / DAY)
            prev = when
        last = None
        for when, *_ in acts.get(r["id"], []):
            if last is not None:
                stage, _ = stage_as_of(r["stage_id"], history.get(r["id"], []), created, when, pipeline)
                gaps[stage].append((when - last) / DAY)
            last = when
    stats = {
        "stuck_days": {s: float(np.percentile(v, 75)) for s, v in in_stage.items() if len(v) >= MIN_SAMPLES},
        "gap_days": {s: float(np.percentile(v, 75)) for s, v in gaps.items() if len(v) >= MIN_SAMPLES},
    }
    cache.set(STATS_KEY, stats, 3600)
    return stats


def feedback_weights() -> dict[str, float]:
    """Per situation, how welcome its advice has been: accepted+1 over decided+2, times two (1.0 is neutral)."""
    rows = Recommendation.objects.exclude(status=Recommendation.Status.OPEN).values("code").annotate(
        accepted=Count("id", filter=Q(status=Recommendation.Status.ACCEPTED)), decided=Count("id"))
    return {r["code"]: 2 * (r["accepted"] + 1) / (r["decided"] + 2) for r in rows}


def _days(v) -> int:
    return int(round(v))


def deal_situations(v: dict, label: str, stats: dict, score: int | None, meetings_ahead: bool) -> list[dict]:
    """The advice a deal calls for now, given its features at now (`label`: its stage's name)."""
    out = []
    stage = v["stage"]
    usual = stats["gap_days"].get(stage, DEFAULT_GAP_DAYS)
    quiet = v["days_since_activity"]
    if math.isnan(quiet):
        if v["age_days"] > usual:
            out.append({"code": "no_recent_activity", "action": "Schedule a follow-up",
                        "reason": f"No activity logged in the {_days(v['age_days'])} days since the deal was opened; "
                                  f"deals in {label} usually hear from us every {_days(usual)} days."})
    elif quiet > usual:
        out.append({"code": "no_recent_activity", "action": "Schedule a follow-up",
                    "reason": f"No activity for {_days(quiet)} days; deals in {label} usually hear from us "
                              f"every {_days(usual)} days."})
    stuck = stats["stuck_days"].get(stage, DEFAULT_STUCK_DAYS)
    if v["days_in_stage"] > stuck:
        out.append({"code": "stuck_in_stage", "action": f"Agree what moves the deal out of {label}",
                    "reason": f"{_days(v['days_in_stage'])} days in {label}; 75% of won deals left it within "
                              f"{_days(stuck)} days."})
    if not math.isnan(v["days_to_close"]) and v["days_to_close"] < 0:
        out.append({"code": "close_date_past", "action": "Update the expected close date",
                    "reason": f"The expected close date passed {_days(-v['days_to_close'])} days ago."})
    if v["contacts_on_deal"] <= 1:
        out.append({"code": "single_contact", "action": "Engage another contact at the account",
                    "reason": "Only one contact engaged; deals with several people involved win more often."
                    if v["contacts_on_deal"] == 1 else "No contact engaged yet."})
    if not v["has_next_step"]:
        out.append({"code": "no_next_step", "action": "Set a next step",
                    "reason": "No next step is set on the deal."})
    if score is not None and score >= HIGH_SCORE and not meetings_ahead:
        out.append({"code": "high_score_no_meeting", "action": "Book a meeting",
                    "reason": f"Score {score} but no meeting held in the last 30 days or booked."})
    return out


def lead_situations(v: dict, score: int | None, meetings_ahead: bool) -> list[dict]:
    out = []
    quiet = v["days_since_activity"]
    if math.isnan(quiet):
        if v["age_days"] > 1:
            out.append({"code": "first_contact", "action": "Make first contact",
                        "reason": f"No activity since the lead arrived {_days(v['age_days'])} days ago."})
    elif quiet > DEFAULT_GAP_DAYS:
        out.append({"code": "no_recent_activity", "action": "Schedule a follow-up",
                    "reason": f"No activity for {_days(quiet)} days."})
    if score is not None and score >= HIGH_SCORE and not meetings_ahead:
        out.append({"code": "high_score_no_meeting", "action": "Book a meeting",
                    "reason": f"Score {score} but no meeting held in the last 30 days or booked."})
    return out


def situations(kind: str, record_id: int) -> list[dict]:
    """Current advice for one open record (empty for closed ones), given its stored score."""
    ds = scoring_set(kind, [record_id])
    if not ds.ids:
        return []
    v = ds.vectors[0]
    now = ds.extra["now"]
    history = ds.extra["history"]
    # Scheduled meetings are in the future; the advice may look ahead, the features never do.
    acts = history.activities.get(record_id, [])
    meetings = any(t >= now - 30 * DAY and typ in ("meeting", "demo") for t, typ, *_ in acts)
    if kind == Kind.DEAL:
        score = sources.deal_scores([record_id]).get(record_id)
        return deal_situations(v, history.pipeline.labels[v["stage"]], pipeline_stats(history.pipeline), score,
                               meetings)
    return lead_situations(v, sources.lead_scores([record_id]).get(record_id), meetings)


def recommendations_sync(kind: str, record_id: int) -> list[Recommendation]:
    """Bring a record's open advice in line with its situation now; return it ranked."""
    fk = "opportunity_id" if kind == Kind.DEAL else "lead_id"
    found = {s["code"]: s for s in situations(kind, record_id)}
    weights = feedback_weights()
    since = timezone.now() - timedelta(days=REMEMBER_DAYS)
    with transaction.atomic():
        existing = {r.code: r for r in rows_lock(Recommendation.objects.filter(**{fk: record_id}).filter(
                    Q(status=Recommendation.Status.OPEN) | Q(decided_at__gte=since)), deleting=True)}
        for code, rec in existing.items():
            if rec.status == Recommendation.Status.OPEN and code not in found:
                rec.delete()
        for code, s in found.items():
            priority = round(BASE_PRIORITY.get(code, 0.5) * weights.get(code, 1.0), 4)
            rec = existing.get(code)
            if rec is None:
                Recommendation.objects.create(code=code, action=s["action"], reason=s["reason"], priority=priority,
                                              **{fk: record_id})
            elif rec.status == Recommendation.Status.OPEN and (rec.reason, rec.priority) != (s["reason"], priority):
                rec.reason, rec.action, rec.priority = s["reason"], s["action"], priority
                rec.save(update_fields=["reason", "action", "priority"])
            # decided recently (accepted or dismissed): remembered, not raised again yet
    return list(Recommendation.objects.filter(**{fk: record_id}, status=Recommendation.Status.OPEN)
                .order_by("-priority", "id"))
