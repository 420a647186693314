"""Labelled examples (for training and evaluation) and rows as of a time (for scoring), built from history.

A decided record gives one example per fixed age (LEAD_AGES, DEAL_AGES) at which it was still open: those
times do not depend on its outcome, so neither how long a record stayed open nor when its outcome arrived can
be learned as a predictor. Each example carries when its label became known (the deal's close, the lead's
unqualification or its deal's close), by which training and holdout are split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from intelligence import sources
from intelligence.features import DAY, DEAL_AGES, LEAD_AGES, History, deal_vector, lead_vector, owner_closes, seniority
from intelligence.sources import Pipeline, ts
from leads.models import Lead
from leads.workflow import OPEN_STATUSES
from opportunities.models import Opportunity
from salesapp import cache

DEAL_HISTORY_FIELDS = ("amount", "expected_close_date", "next_step")
LEAD_HISTORY_FIELDS = ("source", "status", "title", "industry", "employee_count", "annual_revenue", "country",
                       "phone", "company")


@dataclass
class Dataset:
    """Feature dicts with their record ids; for examples also labels, when each label became known, the time
    each example looks at and its age (days after creation)."""

    ids: list[int]
    vectors: list[dict]
    y: np.ndarray | None = None
    known_at: np.ndarray | None = None
    snapshot_at: np.ndarray | None = None
    ages: np.ndarray | None = None
    median_amount: float = 0.0
    extra: dict | None = None


def as_epoch(as_of) -> float:
    """A scoring time as epoch seconds: a datetime, epoch seconds, or None for now."""
    if as_of is None:
        return time.time()
    if isinstance(as_of, datetime):
        return ts(as_of)
    return float(as_of)


def _examples(ages, created: float, open_until: float, now: float):
    """The fixed ages at which a record was open (strictly before it was decided) and that have passed."""
    for age in ages:
        t = created + age * DAY
        if t < open_until and t <= now:
            yield age, t


def deal_closed_at(row: dict, stages: list, pipeline: Pipeline) -> float | None:
    """When a closed deal's outcome became known: its last move into a closed stage, else its close date."""
    moves = [when for when, _frm, to in stages if to in pipeline.closed]
    return moves[-1] if moves else ts(row.get("actual_close_date")) or ts(row.get("stage_changed_at"))


def _owner_closes(closed_rows: list[dict], stages: dict, pipeline: Pipeline) -> dict:
    closes = {r["id"]: c for r in closed_rows if (c := deal_closed_at(r, stages.get(r["id"], []), pipeline))}
    return owner_closes(closed_rows, closes, pipeline.won)


def _account_wins(closed_rows: list[dict], stages: dict, pipeline: Pipeline) -> dict:
    out: dict = {}
    for r in closed_rows:
        when = deal_closed_at(r, stages.get(r["id"], []), pipeline)
        if r["stage_id"] in pipeline.won and when is not None:
            out.setdefault(r.get("account_id"), []).append(when)
    return {k: sorted(v) for k, v in out.items()}


def median_amount(rows: list[dict]) -> float:
    amounts = [float(r["amount"]) for r in rows if r.get("amount") is not None]
    return float(np.median(amounts)) if amounts else 0.0


def _contacts(ids) -> dict:
    return {k: [(c, seniority(title), role) for c, title, role in v] for k, v in sources.deal_contacts(ids).items()}


CLOSED_GEN_KEY = "intelligence:closed-generation"


def closed_context(pipeline: Pipeline) -> tuple[dict, dict, float]:
    """Owners' and accounts' close records (for win rate and existing customer as of any time) and the median
    amount, cached until a deal closes or reopens."""
    gen = cache.version(CLOSED_GEN_KEY)
    key = f"intelligence:closed-context:v2:{gen}"
    value = cache.get(key)
    if value is None:
        closed = sources.deal_rows(stages=pipeline.closed)
        stages = sources.stage_history([r["id"] for r in closed])
        value = (_owner_closes(closed, stages, pipeline), _account_wins(closed, stages, pipeline),
                 median_amount(closed))
        cache.set(key, value, 600)
    return value


def closed_context_invalidate() -> None:
    cache.version_bump(CLOSED_GEN_KEY)


def deal_training_set(ids=None, *, now: float | None = None) -> Dataset:
    """Closed deals (ids=None: all), each at the fixed ages it was still open."""
    now = now or time.time()
    pipeline = sources.pipeline()
    closed = sources.deal_rows(ids=ids, stages=pipeline.closed)
    rid = [r["id"] for r in closed]
    stages = sources.stage_history(rid)
    all_closed = closed if ids is None else sources.deal_rows(stages=pipeline.closed)
    all_stages = stages if ids is None else sources.stage_history([r["id"] for r in all_closed])
    hist = History(
        pipeline=pipeline, stages=stages, fields=sources.field_history(Opportunity, rid, DEAL_HISTORY_FIELDS),
        activities=sources.activities("opportunity", rid),
        owner_closes=_owner_closes(all_closed, all_stages, pipeline),
        contacts=_contacts(rid), account_wins=_account_wins(all_closed, all_stages, pipeline),
    )
    med = median_amount(all_closed)
    ds = Dataset([], [], median_amount=med)
    y, known, snaps, ages = [], [], [], []
    for r in closed:
        end, start = deal_closed_at(r, stages.get(r["id"], []), pipeline), ts(r["created_at"])
        if end is None or start is None:
            continue
        for age, t in _examples(DEAL_AGES, start, end, now):
            ds.ids.append(r["id"])
            ds.vectors.append(deal_vector(r, t, hist, med))
            y.append(1 if r["stage_id"] in pipeline.won else 0)
            known.append(end)
            snaps.append(t)
            ages.append(age)
    ds.y, ds.known_at, ds.snapshot_at, ds.ages = np.array(y), np.array(known), np.array(snaps), np.array(ages)
    return ds


def deal_scoring_set(ids=None, *, now: float | None = None, median: float | None = None,
                     open_only: bool = True) -> Dataset:
    """Deals as they stood at `now` (default: now); ids=None: every open deal."""
    now = now or time.time()
    pipeline = sources.pipeline()
    rows = sources.deal_rows(ids=ids, stages=pipeline.open if open_only else None)
    rid = [r["id"] for r in rows]
    closes, wins, closed_median = closed_context(pipeline)
    hist = History(
        pipeline=pipeline,
        stages=sources.stage_history(rid),
        fields=sources.field_history(Opportunity, rid, DEAL_HISTORY_FIELDS),
        activities=sources.activities("opportunity", rid),
        owner_closes=closes, contacts=_contacts(rid), account_wins=wins,
    )
    med = median if median is not None else closed_median
    vectors = [deal_vector(r, now, hist, med) for r in rows]
    return Dataset(rid, vectors, median_amount=med, extra={"rows": rows, "history": hist, "now": now})


def lead_outcome(row: dict, statuses: list, deal_stages: list, pipeline: Pipeline):
    """(label, open until, label known at) of a decided lead, or None while its outcome is unknown.

    Won: converted into a deal later won. Lost: unqualified, or converted into a lost deal. A converted lead
    is open until it converted; its label is known when its deal closed. Times come from history only: a
    lead whose decision time is not recorded is left out (a later save must not move it).
    """
    if row["status"] == Lead.Status.CONVERTED:
        deal_stage = row.get("converted_opportunity__stage_id")
        converted = ts(row.get("converted_at"))
        if deal_stage not in pipeline.closed or converted is None:
            return None
        closed = deal_closed_at({"actual_close_date": row.get("converted_opportunity__actual_close_date")},
                                deal_stages, pipeline)
        if closed is None:
            return None
        return (1 if deal_stage in pipeline.won else 0), converted, max(closed, converted)
    if row["status"] == Lead.Status.UNQUALIFIED:
        when = [t for t, status in statuses if status == Lead.Status.UNQUALIFIED]
        return (0, when[-1], when[-1]) if when else None
    return None


def lead_training_set(ids=None, *, now: float | None = None) -> Dataset:
    """Decided leads (ids=None: all), each at the fixed ages it was still open."""
    now = now or time.time()
    pipeline = sources.pipeline()
    rows = sources.lead_rows(ids=ids, statuses=[Lead.Status.CONVERTED, Lead.Status.UNQUALIFIED])
    rid = [r["id"] for r in rows]
    statuses = sources.lead_status_changes(rid)
    deal_stages = sources.stage_history([r["converted_opportunity_id"] for r in rows if r["converted_opportunity_id"]])
    hist = History(pipeline=pipeline, fields=sources.field_history(Lead, rid, LEAD_HISTORY_FIELDS),
                   activities=sources.activities("lead", rid))
    ds = Dataset([], [])
    y, known, snaps, ages = [], [], [], []
    for r in rows:
        res = lead_outcome(r, statuses.get(r["id"], []), deal_stages.get(r["converted_opportunity_id"], []), pipeline)
        start = ts(r["created_at"])
        if res is None or start is None:
            continue
        label, open_until, known_at = res
        for age, t in _examples(LEAD_AGES, start, open_until, now):
            ds.ids.append(r["id"])
            ds.vectors.append(lead_vector(r, t, hist))
            y.append(label)
            known.append(known_at)
            snaps.append(t)
            ages.append(age)
    ds.y, ds.known_at, ds.snapshot_at, ds.ages = np.array(y), np.array(known), np.array(snaps), np.array(ages)
    return ds


def lead_scoring_set(ids=None, *, now: float | None = None, open_only: bool = True) -> Dataset:
    """Leads as they stood at `now` (default: now); ids=None: every open lead."""
    now = now or time.time()
    rows = sources.lead_rows(ids=ids, statuses=OPEN_STATUSES if open_only else None)
    rid = [r["id"] for r in rows]
    hist = History(pipeline=sources.pipeline(), fields=sources.field_history(Lead, rid, LEAD_HISTORY_FIELDS),
                   activities=sources.activities("lead", rid))
    vectors = [lead_vector(r, now, hist) for r in rows]
    return Dataset(rid, vectors, extra={"rows": rows, "history": hist, "now": now})


def training_set(kind: str, ids=None) -> Dataset:
    return deal_training_set(ids) if kind == "deal" else lead_training_set(ids)


def scoring_set(kind: str, ids=None, **kw) -> Dataset:
    if kind == "deal":
        return deal_scoring_set(ids, **kw)
    kw.pop("median", None)
    return lead_scoring_set(ids, **kw)
