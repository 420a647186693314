"""Everything intelligence reads from, and writes through, the apps below it.

Reads for scoring are system-wide (no user: a model sees the whole history), through the
owning apps' system reads (`leads.figures`, `opportunities.figures`, the activities
selectors); reads for a person go through `restrict()` via the owning app's selectors.
The audit log's field history is django-auditlog's table, read here.
Scores are written by the apps that own the records (the leads and
opportunities services, called from intelligence.services), never here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone

from activities import selectors as activity_selectors
from activities import services as activity_services
from leads import figures as lead_figures
from leads import selectors as lead_selectors
from leads.models import Lead
from opportunities import figures as opportunity_figures
from opportunities import selectors as opportunity_selectors

CHUNK = 5000


def chunks(ids, size: int = CHUNK):
    """Id lists in slices a database accepts as query parameters."""
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def in_chunks(read, ids, **kwargs) -> Iterator:
    """The rows of `read(ids=..., **kwargs)` over id slices, in order (ids=None: one read of every record)."""
    for part in [None] if ids is None else chunks(ids):
        yield from read(ids=part, **kwargs)


def ts(value) -> float | None:
    """Epoch seconds for a datetime, date or ISO string (None stays None)."""
    if value is None or value in {"", "None"}:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return None
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    return None


# --- stages -------------------------------------------------------------------

@dataclass(frozen=True)
class Pipeline:
    """The pipeline's stages as `Stage` defines them: open ones in order, won and lost keys, labels, defaults."""

    open: tuple[str, ...]
    won: frozenset[str]
    lost: frozenset[str]
    labels: dict[str, str]
    probabilities: dict[str, int]

    @property
    def closed(self) -> frozenset[str]:
        return self.won | self.lost

    @property
    def first_open(self) -> str:
        return self.open[0]


def pipeline() -> Pipeline:
    """The stages now (a handful of rows, read once per scoring or training run)."""
    rows = list(opportunity_selectors.stage_list().values("key", "label", "default_probability", "is_closed",
                                                          "is_won"))
    return Pipeline(
        open=tuple(r["key"] for r in rows if not r["is_closed"]),
        won=frozenset(r["key"] for r in rows if r["is_closed"] and r["is_won"]),
        lost=frozenset(r["key"] for r in rows if r["is_closed"] and not r["is_won"]),
        labels={r["key"]: r["label"] for r in rows},
        probabilities={r["key"]: r["default_probability"] for r in rows},
    )


# --- opportunities ------------------------------------------------------------

def opportunities_visible(user):
    """Deals the user may see, archived ones included (reports count the whole history), through the
    opportunities app's selector."""
    return opportunity_selectors.opportunity_history_list(user=user)


DEAL_FIELDS = (
    "id", "name", "amount", "expected_close_date", "actual_close_date", "created_at", "stage_id", "source",
    "owner_id", "territory_id", "lead_id", "next_step", "stage_changed_at", "last_activity_at", "account_id",
    "account__industry", "account__employee_count", "account__annual_revenue", "account__billing_country",
    "owner__manager_id",
)


def deal_rows(*, ids=None, stages=None) -> list[dict]:
    """Plain rows of the deals to score or learn from, with their account's firmographics."""
    return list(in_chunks(opportunity_figures.deal_rows, ids, fields=DEAL_FIELDS, stages=stages))


def stage_history(opportunity_ids=None) -> dict[int, list[tuple[float, str, str]]]:
    """Stage changes per deal, oldest first: (changed_at, from_stage, to_stage)."""
    out: dict[int, list] = defaultdict(list)
    for opp_id, changed_at, frm, to in in_chunks(opportunity_figures.stage_changes, opportunity_ids):
        out[opp_id].append((changed_at.timestamp(), frm, to))
    return out


def field_history(model, ids, fields: tuple[str, ...]) -> dict[int, list[tuple[float, str, str, str]]]:
    """Field changes of `model` (Lead or Opportunity) recorded by the audit log, oldest first: (when, field, old, new)."""
    ct = ContentType.objects.get_for_model(model)
    cond = Q()
    for f in fields:
        cond |= Q(changes__has_key=f)
    columns = ("object_id", "timestamp", "changes", "id", "content_type_id", "action")
    if ids is None:
        parts = [LogEntry.objects.filter(cond, content_type=ct).order_by().values_list(*columns)]
    else:
        # By object id alone, type checked below: given the content type too, SQLite (no statistics)
        # walks the content-type index through every entry of the model.
        parts = [LogEntry.objects.filter(cond, object_id__in=p).order_by().values_list(*columns) for p in chunks(ids)]
    out: dict[int, list] = defaultdict(list)
    for part in parts:
        for object_id, when, changes, entry_id, ct_id, action in part.iterator(chunk_size=5000):
            if ct_id != ct.pk or action != LogEntry.Action.UPDATE or not isinstance(changes, dict):
                continue
            for f in fields:
                if f in changes:
                    old, new = (list(changes[f]) + [None, None])[:2]
                    out[object_id].append((when.timestamp(), f, old, new, entry_id))
    return {k: [e[:4] for e in sorted(v, key=lambda e: (e[0], e[4]))] for k, v in out.items()}


def deal_contacts(ids) -> dict[int, list[tuple[int, str, str]]]:
    """The contacts on each deal: (contact_id, title, buying_role)."""
    out: dict[int, list] = defaultdict(list)
    for part in chunks(ids):
        for opp_id, contact_id, title, role in opportunity_figures.deal_contacts(ids=part):
            out[opp_id].append((contact_id, title, role))
    return out


def owner_names(ids) -> dict[int, str]:
    return {
        u["id"]: (f"{u['first_name']} {u['last_name']}".strip() or u["email"])
        for u in get_user_model().objects.filter(pk__in=list(ids)).values("id", "first_name", "last_name", "email")
    }


def deal_scores(ids) -> dict[int, int | None]:
    """The stored score of each deal (what every page shows)."""
    out = {}
    for part in chunks([i for i in ids if i]):
        out.update(opportunity_figures.deal_scores(ids=part))
    return out


# --- leads --------------------------------------------------------------------

def leads_visible(user):
    """Leads the user may see, through the leads app's selector."""
    return lead_selectors.lead_list(user=user)


LEAD_FIELDS = (
    "id", "source", "status", "title", "industry", "employee_count", "annual_revenue", "country", "phone",
    "company", "website", "score", "created_at", "converted_at", "converted_opportunity_id", "updated_at",
    "last_activity_at", "assigned_to_id", "territory_id", "first_name", "last_name", "email",
    "converted_opportunity__stage_id", "converted_opportunity__actual_close_date",
)


def lead_rows(*, ids=None, statuses=None) -> list[dict]:
    return list(in_chunks(lead_figures.lead_rows, ids, fields=LEAD_FIELDS, statuses=statuses))


def lead_scores(ids) -> dict[int, int]:
    """The stored score of each lead (what every page shows)."""
    out = {}
    for part in chunks([i for i in ids if i]):
        out.update(lead_figures.lead_scores(ids=part))
    return out


def lead_status_changes(ids) -> dict[int, list[tuple[float, str]]]:
    """When each lead entered each status, oldest first: (when, status), from its timeline and the audit log."""
    out: dict[int, list] = defaultdict(list)
    for part in chunks(ids):
        for lead_id, when, status in lead_figures.lead_status_changes(ids=part):
            out[lead_id].append((when.timestamp(), status))
    for lead_id, changes in field_history(Lead, ids, ("status",)).items():
        out[lead_id] += [(when, new) for when, _f, _old, new in changes]
    return {k: sorted(v) for k, v in out.items()}


def lead_rule_scores(ids) -> dict[int, tuple[int, list[dict], str]]:
    """The leads app's rule score of each lead (before any learned model): score, factors, model label."""
    return {pk: (result.score, result.factors, result.model)
            for part in chunks(ids) for pk, result in lead_figures.lead_rule_scores(ids=part).items()}


# --- activities ---------------------------------------------------------------

def activities(kind: str, ids) -> dict[int, list[tuple[float, str, str, object]]]:
    """Activities per record, oldest first: (when it happened, type, outcome, contact_id).

    An activity counts from when it happened (completed, else occurred), not when it was typed in: imported
    history keeps its own times. Features read only those at or before the time they are asked about.
    """
    ids = list(ids)
    if not ids:
        return {}
    key = "opportunity_id" if kind in ("opportunity", "deal") else "lead_id"
    out: dict[int, list] = defaultdict(list)
    for a in in_chunks(activity_selectors.activities_for, ids, kind=kind, limit=10_000_000):
        rid = a.get(key)
        when = ts(a.get("completed_at") or a.get("occurred_at") or a.get("created_at"))
        if rid is None or when is None:
            continue
        out[rid].append((when, str(a.get("type") or ""), str(a.get("outcome") or ""), a.get("contact_id")))
    for lst in out.values():
        lst.sort(key=lambda r: r[0])
    return out


def task_create(*, actor, subject: str, opportunity_id=None, lead_id=None, due_at=None):
    """Create a task for a recommendation through the activities service."""
    return activity_services.activity_log(
        actor=actor, type="task", subject=subject, opportunity_id=opportunity_id, lead_id=lead_id, due_at=due_at
    )
