"""Assemble labelled examples (for training) and current rows (for scoring) with their history."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from intelligence import sources
from intelligence.features import ACTIVITY_TYPES, History, deal_vector, lead_vector, owner_closes
from intelligence.sources import Pipeline, ts
from leads.models import Lead
from leads.workflow import OPEN_STATUSES
from opportunities.models import Opportunity
from salesapp import cache

DEAL_HISTORY_FIELDS = ("amount", "expected_close_date", "next_step")
LEAD_HISTORY_FIELDS = ("source", "status")


@dataclass
class Dataset:
    """Feature dicts with ids, labels (None when scoring) and the time each outcome became known."""

    ids: list[int]
    vectors: list[dict]
    y: np.ndarray | None = None
    outcome_at: np.ndarray | None = None
    snapshot_at: np.ndarray | None = None
    median_amount: float = 0.0
    extra: dict | None = None


def snapshot_fraction(record_id: int, low: float = 0.25, high: float = 0.85) -> float:
    """A fixed pseudo-random point in a record's life (the same every run), to learn from."""
    return low + (high - low) * (((record_id * 2654435761) % 4294967296) / 4294967296)


def closed_at(row: dict) -> float | None:
    """When a closed deal's outcome became known."""
    return ts(row.get("stage_changed_at")) or ts(row.get("actual_close_date"))


def _owner_closes(closed_rows: list[dict], pipeline: Pipeline) -> dict:
    closes = {r["id"]: c for r in closed_rows if (c := closed_at(r)) is not None}
    return owner_closes(closed_rows, closes, pipeline.won)


def median_amount(rows: list[dict]) -> float:
    amounts = [float(r["amount"]) for r in rows if r.get("amount") is not None]
    return float(np.median(amounts)) if amounts else 0.0


def deal_training_set() -> Dataset:
    pipeline = sources.pipeline()
    closed = sources.deal_rows(stages=pipeline.closed)
    ids = [r["id"] for r in closed]
    hist = History(
        pipeline=pipeline,
        stages=sources.stage_history(ids),
        fields=sources.field_history(Opportunity, ids, DEAL_HISTORY_FIELDS),
        activities=sources.activities("opportunity", ids),
        owner_closes=_owner_closes(closed, pipeline),
        lead_scores=sources.lead_scores({r["lead_id"] for r in closed}),
    )
    med = median_amount(closed)
    out_ids, vectors, y, outcome, snaps = [], [], [], [], []
    for r in closed:
        end = closed_at(r)
        start = ts(r["created_at"])
        if end is None or start is None or end <= start:
            continue
        t = start + snapshot_fraction(r["id"]) * (end - start)
        out_ids.append(r["id"])
        vectors.append(deal_vector(r, t, hist, med))
        y.append(1 if r["stage_id"] in pipeline.won else 0)
        outcome.append(end)
        snaps.append(t)
    return Dataset(out_ids, vectors, np.array(y), np.array(outcome), np.array(snaps), med)


CLOSED_GEN_KEY = "intelligence:closed-generation"


def closed_context(pipeline: Pipeline) -> tuple[dict, float]:
    """Owners' close records (for win rate as of now) and the median amount, cached until a deal closes or reopens."""
    gen = cache.version(CLOSED_GEN_KEY)
    key = f"intelligence:closed-context:{gen}"
    value = cache.get(key)
    if value is None:
        closed = sources.deal_rows(stages=pipeline.closed)
        value = (_owner_closes(closed, pipeline), median_amount(closed))
        cache.set(key, value, 600)
    return value


def closed_context_invalidate() -> None:
    cache.version_bump(CLOSED_GEN_KEY)


def deal_scoring_set(ids=None, *, now: float | None = None, median: float | None = None) -> Dataset:
    """Open deals as they are now (ids=None: all open deals)."""
    now = now or time.time()
    pipeline = sources.pipeline()
    rows = sources.deal_rows(ids=ids, stages=pipeline.open)
    rid = [r["id"] for r in rows]
    hist_ids = rid if ids is not None else None
    closes, closed_median = closed_context(pipeline)
    hist = History(
        pipeline=pipeline,
        stages=sources.stage_history(hist_ids),
        fields=sources.field_history(Opportunity, hist_ids, DEAL_HISTORY_FIELDS),
        activities=_activities_now("opportunity", ids, rid, now),
        owner_closes=closes,
        lead_scores=sources.lead_scores({r["lead_id"] for r in rows}),
    )
    med = median if median is not None else closed_median
    vectors = [deal_vector(r, now, hist, med) for r in rows]
    return Dataset(rid, vectors, median_amount=med, extra={"rows": rows, "history": hist, "now": now})


BULK = 200


def _activities_now(kind: str, ids, rows_ids: list[int], now: float) -> dict:
    """A few records: their activities one by one. Many: grouped counts, the same features at a fraction of the cost."""
    if ids is not None and len(rows_ids) <= BULK:
        return sources.activities(kind, rows_ids)
    return sources.activity_summary(kind, ids and rows_ids, datetime.fromtimestamp(now, tz=UTC), ACTIVITY_TYPES)


def lead_outcome(row: dict, status_changes: list, pipeline: Pipeline) -> tuple[int, float] | None:
    """Won: converted into a deal later won. Lost: unqualified, or converted into a lost deal."""
    deal_stage = row.get("converted_opportunity__stage_id")
    if row["status"] == "converted" and deal_stage in pipeline.closed:
        decided = ts(row["converted_at"]) or ts(row["updated_at"])
        return (1 if deal_stage in pipeline.won else 0), decided
    if row["status"] == "unqualified":
        when = [t for t, f, _old, new in status_changes if f == "status" and new == "unqualified"]
        return 0, (when[-1] if when else ts(row["updated_at"]))
    return None


def lead_training_set() -> Dataset:
    pipeline = sources.pipeline()
    rows = sources.lead_rows(statuses=[Lead.Status.CONVERTED, Lead.Status.UNQUALIFIED])
    ids = [r["id"] for r in rows]
    fields = sources.field_history(Lead, ids, LEAD_HISTORY_FIELDS)
    hist = History(pipeline=pipeline, fields=fields, activities=sources.activities("lead", ids))
    out_ids, vectors, y, outcome, snaps = [], [], [], [], []
    for r in rows:
        res = lead_outcome(r, fields.get(r["id"], []), pipeline)
        start = ts(r["created_at"])
        if res is None or res[1] is None or start is None or res[1] <= start:
            continue
        label, decided = res
        t = start + snapshot_fraction(r["id"], 0.2, 0.8) * (decided - start)
        out_ids.append(r["id"])
        vectors.append(lead_vector(r, t, hist))
        y.append(label)
        outcome.append(decided)
        snaps.append(t)
    return Dataset(out_ids, vectors, np.array(y), np.array(outcome), np.array(snaps))


def lead_scoring_set(ids=None, *, now: float | None = None) -> Dataset:
    now = now or time.time()
    rows = sources.lead_rows(ids=ids, statuses=OPEN_STATUSES)
    rid = [r["id"] for r in rows]
    hist = History(
        pipeline=sources.pipeline(),
        fields=sources.field_history(Lead, rid if ids is not None else None, LEAD_HISTORY_FIELDS),
        # Leads keep the one-by-one path: their first days' engagement needs each activity's time.
        activities=sources.activities("lead", rid),
    )
    vectors = [lead_vector(r, now, hist) for r in rows]
    return Dataset(rid, vectors, extra={"rows": rows, "history": hist, "now": now})


def training_set(kind: str) -> Dataset:
    return deal_training_set() if kind == "deal" else lead_training_set()


def scoring_set(kind: str, ids=None, **kw) -> Dataset:
    if kind == "deal":
        return deal_scoring_set(ids, **kw)
    kw.pop("median", None)
    return lead_scoring_set(ids, **kw)
