"""Point-in-time features for deals and leads.

A closed deal is learned from as it looked at a snapshot time *before* its
outcome was known: stage, amount and close date are rebuilt from stage
history and the audit log's field history, and only activities stamped at or
before the snapshot count. Open records are scored with the snapshot at now.
Nothing in this module looks at a timestamp later than the snapshot.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from intelligence.sources import Pipeline, ts

DAY = 86400.0
ACTIVITY_TYPES = ("call", "email", "meeting", "demo", "task", "note")
SENIORITY = (("chief", 4), ("ceo", 4), ("cto", 4), ("cfo", 4), ("vp", 3), ("vice president", 3), ("head", 3),
             ("director", 2), ("manager", 1), ("lead", 1))


@dataclass(frozen=True)
class Feature:
    """One model input: its name, whether it is categorical, and the NB bucket rule."""

    name: str
    categorical: bool = False
    nb: bool = False  # part of the naive Bayes "field values"


DEAL_FEATURES = (
    Feature("amount", nb=True),
    Feature("amount_ratio"),
    Feature("stage", categorical=True, nb=True),
    Feature("days_in_stage"),
    Feature("age_days"),
    Feature("days_to_close"),
    Feature("close_date_pushes"),
    Feature("activities_total"),
    Feature("calls"),
    Feature("emails"),
    Feature("meetings"),
    Feature("demos"),
    Feature("activities_last_14d"),
    Feature("days_since_activity"),
    Feature("contacts_on_deal"),
    Feature("employee_count", nb=True),
    Feature("annual_revenue", nb=True),
    Feature("industry", categorical=True, nb=True),
    Feature("source", categorical=True, nb=True),
    Feature("lead_score"),
    Feature("owner_win_rate"),
    Feature("has_next_step", nb=True),
)

LEAD_FEATURES = (
    Feature("source", categorical=True, nb=True),
    Feature("industry", categorical=True, nb=True),
    Feature("seniority", nb=True),
    Feature("employee_count", nb=True),
    Feature("annual_revenue", nb=True),
    Feature("country", categorical=True, nb=True),
    Feature("has_phone", nb=True),
    Feature("has_company", nb=True),
    Feature("age_days"),
    Feature("activities_total"),
    Feature("calls"),
    Feature("emails"),
    Feature("meetings"),
    Feature("first_3d_activities"),
    Feature("days_since_activity"),
)

FEATURES = {"deal": DEAL_FEATURES, "lead": LEAD_FEATURES}


@dataclass
class History:
    """Everything the builders may consult, keyed by record id, each list oldest first."""

    pipeline: Pipeline  # the stages as Stage defines them
    stages: dict = field(default_factory=dict)  # id -> [(t, from, to)]
    fields: dict = field(default_factory=dict)  # id -> [(t, field, old, new)]
    activities: dict = field(default_factory=dict)  # id -> [(t, type, direction, contact_id)]
    owner_closes: dict = field(default_factory=dict)  # owner -> (sorted close times, cumulative wins)
    lead_scores: dict = field(default_factory=dict)  # lead id -> score


def _num(v) -> float:
    if v is None or v in {"", "None"}:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def value_as_of(current, changes, name: str, t: float):
    """The value a field had at time t: the old value of the first change after t, else the current one."""
    for when, f, old, _new in changes:
        if f == name and when > t:
            return old
    return current


def stage_as_of(current: str, history, created: float, t: float, pipeline: Pipeline) -> tuple[str, float]:
    """Stage at time t and when the deal entered it (before its first recorded move: the first open stage)."""
    entered = created
    stage = None
    for when, frm, to in history:
        if when <= t:
            stage, entered = to, when
        else:
            if stage is None:
                stage = frm or pipeline.first_open
            break
    if stage is None:
        stage = current
        if current in pipeline.closed and history == []:
            stage = pipeline.first_open  # a closed deal with no history: its open stage is unknown
    return stage, entered


def owner_closes(deals: list[dict], closed_at: dict[int, float], won: frozenset[str]) -> dict:
    """Per owner, close times in order with cumulative wins, for win rate as of any time."""
    per: dict = defaultdict(list)
    for d in deals:
        if d["id"] in closed_at:
            per[d["owner_id"]].append((closed_at[d["id"]], 1 if d["stage_id"] in won else 0))
    out = {}
    for owner, lst in per.items():
        lst.sort()
        out[owner] = ([t for t, _ in lst], np.cumsum([w for _, w in lst]).tolist())
    return out


def owner_win_rate(closes, owner, t: float) -> float:
    times, wins = closes.get(owner, ([], []))
    n = bisect.bisect_left(times, t)  # strictly before t
    won = wins[n - 1] if n else 0
    return (won + 1.0) / (n + 2.0)


def _activity_counts(acts, t: float, since: float | None = None, last_known: float | None = None):
    """Counts by type, direction and recency over the activities at or before t.

    `acts` is either the activities themselves (oldest first) or, for bulk
    scoring at now, a summary of grouped counts; then the last activity time
    is the record's own `last_activity_at` (never later than t).
    """
    if isinstance(acts, dict):
        counts = dict.fromkeys(ACTIVITY_TYPES, 0) | acts.get("counts", {})
        last = min(last_known, t) if last_known is not None else None
        return counts, sum(counts.values()), 0, 0, acts.get("recent", 0), 0, last, 0
    counts = dict.fromkeys(ACTIVITY_TYPES, 0)
    inbound = outbound = recent = first = 0
    last = None
    contacts = set()
    for when, typ, direction, contact in acts:
        if when > t:
            break  # lists are oldest first: everything after is the future
        counts[typ] = counts.get(typ, 0) + 1
        if direction == "inbound":
            inbound += 1
        elif direction == "outbound":
            outbound += 1
        if when >= t - 14 * DAY:
            recent += 1
        if since is not None and when <= since + 3 * DAY:
            first += 1
        if contact:
            contacts.add(contact)
        last = when
    total = sum(counts.values())
    return counts, total, inbound, outbound, recent, first, last, len(contacts)


def deal_vector(d: dict, t: float, h: History, median_amount: float) -> dict:
    """The features of one deal as it looked at time t."""
    oid = d["id"]
    created = ts(d["created_at"])
    changes = h.fields.get(oid, ())
    stage, entered = stage_as_of(d["stage_id"], h.stages.get(oid, []), created, t, h.pipeline)
    amount = _num(value_as_of(d["amount"], changes, "amount", t))
    close = ts(value_as_of(d["expected_close_date"], changes, "expected_close_date", t))
    pushes = 0
    for when, f, old, new in changes:
        if when > t:
            break
        if f == "expected_close_date":
            o, n = ts(old), ts(new)
            if o is not None and n is not None and n > o:
                pushes += 1
    next_step = value_as_of(d.get("next_step") or "", changes, "next_step", t)
    counts, total, _in, _out, recent, _first, last, _engaged = _activity_counts(
        h.activities.get(oid, ()), t, last_known=ts(d.get("last_activity_at")))
    return {
        "amount": amount,
        "amount_ratio": amount / median_amount if median_amount and not math.isnan(amount) else math.nan,
        "stage": stage,
        "days_in_stage": (t - entered) / DAY,
        "age_days": (t - created) / DAY,
        # whole calendar days: a close date is a date, not a moment
        "days_to_close": (close - (t // DAY) * DAY) / DAY if close is not None else math.nan,
        "close_date_pushes": pushes,
        "activities_total": total,
        "calls": counts["call"],
        "emails": counts["email"],
        "meetings": counts["meeting"],
        "demos": counts["demo"],
        "activities_last_14d": recent,
        "days_since_activity": (t - last) / DAY if last is not None else math.nan,
        "contacts_on_deal": d.get("contacts_count") or 0,
        "employee_count": _num(d.get("account__employee_count")),
        "annual_revenue": _num(d.get("account__annual_revenue")),
        "industry": d.get("account__industry") or "",
        "source": d.get("source") or "",
        "lead_score": _num(h.lead_scores.get(d.get("lead_id"))) if d.get("lead_id") else math.nan,
        "owner_win_rate": owner_win_rate(h.owner_closes, d["owner_id"], t),
        "has_next_step": 1.0 if next_step else 0.0,
    }


def seniority(title: str) -> int:
    title = (title or "").lower()
    for word, level in SENIORITY:
        if word in title:
            return level
    return 0


def lead_vector(lead: dict, t: float, h: History) -> dict:
    """The features of one lead as it looked at time t."""
    lid = lead["id"]
    created = ts(lead["created_at"])
    changes = h.fields.get(lid, ())
    counts, total, _in, _out, _recent, first, last, _ = _activity_counts(h.activities.get(lid, ()), t, created)
    return {
        "source": value_as_of(lead.get("source") or "", changes, "source", t) or "",
        "industry": lead.get("industry") or "",
        "seniority": seniority(lead.get("title")),
        "employee_count": _num(lead.get("employee_count")),
        "annual_revenue": _num(lead.get("annual_revenue")),
        "country": lead.get("country") or "",
        "has_phone": 1.0 if lead.get("phone") else 0.0,
        "has_company": 1.0 if lead.get("company") else 0.0,
        "age_days": (t - created) / DAY,
        "activities_total": total,
        "calls": counts["call"],
        "emails": counts["email"],
        "meetings": counts["meeting"] + counts["demo"],
        "first_3d_activities": first,
        "days_since_activity": (t - last) / DAY if last is not None else math.nan,
    }


def to_matrix(kind: str, vectors: list[dict], vocab: dict[str, list[str]]) -> np.ndarray:
    """Rows of feature dicts as a float matrix; categoricals become codes in `vocab` (unknown: NaN)."""
    feats = FEATURES[kind]
    X = np.full((len(vectors), len(feats)), np.nan, dtype=np.float64)
    for j, f in enumerate(feats):
        if f.categorical:
            index = {v: i for i, v in enumerate(vocab.get(f.name, []))}
            col = [index.get(v[f.name], np.nan) for v in vectors]
        else:
            col = [v[f.name] for v in vectors]
        X[:, j] = np.asarray(col, dtype=np.float64)
    return X


def build_vocab(kind: str, vectors: list[dict]) -> dict[str, list[str]]:
    vocab = {}
    for f in FEATURES[kind]:
        if f.categorical:
            vocab[f.name] = sorted({v[f.name] for v in vectors})
    return vocab
