"""Point-in-time features for deals and leads.

A decided record is learned from as it looked at fixed ages while it was still
open (LEAD_AGES, DEAL_AGES: times that do not depend on its outcome); stage,
amount, close date and a lead's fields are rebuilt from stage history and the
audit log's field history, and only activities that had happened by then
count. Open records are scored as of a chosen time (default now). Nothing in
this module looks at a timestamp later than the time it is asked about.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from intelligence.sources import Pipeline, ts

DAY = 86400.0
ACTIVITY_TYPES = ("call", "email", "meeting", "demo", "task")  # activities.ActivityType's keys
# Training examples are taken at these ages (days after creation) while the record is still open: times that do
# not depend on when, or how, the record was decided. Age-like features are capped at the oldest, so a record
# scored at an age training never saw looks like the oldest it did see.
LEAD_AGES = (1, 3, 7, 14, 30, 60)
DEAL_AGES = (3, 7, 14, 30, 60, 90, 120)
AGE_CAP = {"lead": float(max(LEAD_AGES)), "deal": float(max(DEAL_AGES))}
WINDOWS = (3, 7, 14, 30)  # engagement in the first days of a record's life
SENIORITY = (("chief", 4), ("ceo", 4), ("cto", 4), ("cfo", 4), ("coo", 4), ("founder", 4), ("president", 3),
             ("vp", 3), ("vice president", 3), ("head", 3), ("director", 2), ("manager", 1), ("lead", 1))
DECISION_ROLES = ("decision_maker", "economic_buyer")


@dataclass(frozen=True)
class Feature:
    """One model input: its name, whether it is categorical, and whether naive Bayes reads it (binned)."""

    name: str
    categorical: bool = False
    nb: bool = False


# Engagement as of the scoring time: by window, by type, whether an outcome was logged, how fast the first touch
# came, how recent the last; the same for leads and deals.
ENGAGEMENT = (
    *(Feature(f"first_{w}d_activities", nb=w in (3, 14)) for w in WINDOWS),
    Feature("last_7d_activities", nb=True),
    Feature("calls_first_14d"),
    Feature("emails_first_14d"),
    Feature("meetings_first_14d", nb=True),
    Feature("with_outcome"),
    Feature("days_to_first_activity", nb=True),
    Feature("days_since_activity", nb=True),
    Feature("contacts_engaged"),
)

DEAL_FEATURES = (
    Feature("amount", nb=True),
    Feature("amount_ratio"),
    Feature("stage", categorical=True, nb=True),
    Feature("days_in_stage"),
    Feature("age_days"),
    Feature("days_to_close"),
    Feature("close_date_pushes", nb=True),
    *ENGAGEMENT,
    Feature("contact_seniority", nb=True),
    Feature("decision_maker_on_deal", nb=True),
    Feature("employee_count", nb=True),
    Feature("annual_revenue", nb=True),
    Feature("industry", categorical=True, nb=True),
    Feature("existing_customer", nb=True),
    Feature("source", categorical=True, nb=True),
    Feature("from_lead", nb=True),
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
    *ENGAGEMENT,
)

FEATURES = {"deal": DEAL_FEATURES, "lead": LEAD_FEATURES}


@dataclass
class History:
    """Everything the builders may consult, keyed by record id, each list oldest first."""

    pipeline: Pipeline  # the stages as Stage defines them
    stages: dict = field(default_factory=dict)  # id -> [(t, from, to)]
    fields: dict = field(default_factory=dict)  # id -> [(t, field, old, new)]
    activities: dict = field(default_factory=dict)  # id -> [(happened, type, outcome, contact_id)]
    owner_closes: dict = field(default_factory=dict)  # owner -> (sorted close times, cumulative wins)
    contacts: dict = field(default_factory=dict)  # deal id -> [(contact_id, seniority, buying_role)]
    account_wins: dict = field(default_factory=dict)  # account id -> sorted times its deals were won


def _num(v) -> float:
    if v is None or v in {"", "None"}:
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _int(v):
    n = _num(v)
    return None if math.isnan(n) else int(n)


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


def engagement(acts, created: float, t: float, cap: float) -> dict:
    """Engagement as it stood at time t, from activities by when they happened (oldest first).

    Windows count from creation (first 3/7/14/30 days, only what had happened by t) and back from t (last 7
    days); times are in days, capped at `cap` (the oldest age training saw).
    """
    firsts = dict.fromkeys(WINDOWS, 0)
    by_type = dict.fromkeys(ACTIVITY_TYPES, 0)
    last7 = with_outcome = 0
    first = last = None
    contacts = set()
    for when, typ, outcome, contact in acts:
        if when > t:
            break  # lists are oldest first: everything after is the future
        since = (when - created) / DAY
        for w in WINDOWS:
            if since <= w:
                firsts[w] += 1
        if since <= 14:
            by_type[typ] = by_type.get(typ, 0) + 1
        if when > t - 7 * DAY:
            last7 += 1
        if outcome:
            with_outcome += 1
        if contact:
            contacts.add(contact)
        first = when if first is None else first
        last = when
    return {
        **{f"first_{w}d_activities": firsts[w] for w in WINDOWS},
        "last_7d_activities": last7,
        "calls_first_14d": by_type["call"],
        "emails_first_14d": by_type["email"],
        "meetings_first_14d": by_type["meeting"] + by_type["demo"],
        "with_outcome": with_outcome,
        "days_to_first_activity": min(cap, max(0.0, (first - created) / DAY)) if first is not None else math.nan,
        "days_since_activity": min(cap, (t - last) / DAY) if last is not None else math.nan,
        "contacts_engaged": len(contacts),
    }


def _capped_days(seconds: float, cap: float) -> float:
    return min(cap, max(0.0, seconds / DAY))


def deal_vector(d: dict, t: float, h: History, median_amount: float) -> dict:
    """The features of one deal as it looked at time t (its history up to t, never its current columns)."""
    cap = AGE_CAP["deal"]
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
    contacts = h.contacts.get(oid, ())
    wins = h.account_wins.get(d.get("account_id"), [])
    # whole calendar days: a close date is a date, not a moment
    to_close = (close - (t // DAY) * DAY) / DAY if close is not None else math.nan
    return {
        "amount": amount,
        "amount_ratio": amount / median_amount if median_amount and not math.isnan(amount) else math.nan,
        "stage": stage,
        "days_in_stage": _capped_days(t - entered, cap),
        "age_days": _capped_days(t - created, cap),
        "days_to_close": max(-cap, min(cap, to_close)) if not math.isnan(to_close) else math.nan,
        "close_date_pushes": pushes,
        **engagement(h.activities.get(oid, ()), created, t, cap),
        "contact_seniority": max((s for _c, s, _r in contacts), default=math.nan),
        "contacts_on_deal": len(contacts),  # for advice (who is on the deal now), not a model input
        "decision_maker_on_deal": 1.0 if any(r in DECISION_ROLES for _c, _s, r in contacts) else 0.0,
        "employee_count": _num(d.get("account__employee_count")),
        "annual_revenue": _num(d.get("account__annual_revenue")),
        "industry": d.get("account__industry") or "",
        "existing_customer": 1.0 if bisect.bisect_left(wins, t) else 0.0,
        "source": d.get("source") or "",
        "from_lead": 1.0 if d.get("lead_id") else 0.0,
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
    """The features of one lead as it looked at time t: its fields as the audit log says they were then."""
    lid = lead["id"]
    created = ts(lead["created_at"])
    changes = h.fields.get(lid, ())

    def then(name):
        return value_as_of(lead.get(name), changes, name, t)

    seen = [when for when, *_ in h.activities.get(lid, ()) if when <= t]
    return {
        # what the leads app's rules read, as of t (for the point-in-time rule score; not model inputs)
        "rules_input": {"industry": then("industry"), "employee_count": _int(then("employee_count")),
                        "annual_revenue": _int(then("annual_revenue")), "title": then("title"),
                        "activity_count": len(seen), "last_activity_at": seen[-1] if seen else None},
        "source": then("source") or "",
        "industry": then("industry") or "",
        "seniority": seniority(then("title")),
        "employee_count": _num(then("employee_count")),
        "annual_revenue": _num(then("annual_revenue")),
        "country": then("country") or "",
        "has_phone": 1.0 if then("phone") else 0.0,
        "has_company": 1.0 if then("company") else 0.0,
        "age_days": _capped_days(t - created, AGE_CAP["lead"]),
        **engagement(h.activities.get(lid, ()), created, t, AGE_CAP["lead"]),
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
