"""Everything intelligence reads from, and writes through, the apps below it.

Reads for scoring are system-wide (no user: a model sees the whole history);
reads for a person go through `restrict()` via the owning app's selectors.
Kept in one module so the seams to leads, opportunities and activities are
visible in one place.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, date, datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count
from django.utils import timezone

log = logging.getLogger(__name__)

CHUNK = 5000

OPEN_STAGES = ("discovery", "qualification", "proposal", "negotiation")
WON, LOST = "closed_won", "closed_lost"


def chunks(ids, size: int = CHUNK):
    """Id lists in slices a database accepts as query parameters."""
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


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


# --- opportunities ------------------------------------------------------------

def _opportunity_model():
    from opportunities.models import Opportunity

    return Opportunity


def opportunities_visible(user):
    """Deals the user may see, through the opportunities app's selector."""
    from opportunities.selectors import opportunity_list

    return opportunity_list(user)


def opportunity_visible_ids(user, ids) -> set[int]:
    return set(opportunities_visible(user).filter(pk__in=list(ids)).values_list("pk", flat=True))


DEAL_FIELDS = (
    "id", "name", "amount", "expected_close_date", "actual_close_date", "created_at", "stage_id", "source",
    "owner_id", "territory_id", "lead_id", "next_step", "stage_changed_at", "last_activity_at", "account_id",
    "account__industry", "account__employee_count", "account__annual_revenue", "account__billing_country",
    "owner__manager_id",
)


def deal_rows(*, ids=None, stages=None) -> list[dict]:
    """Plain rows of the deals to score or learn from, with their account's firmographics."""
    qs = _opportunity_model().objects.all()
    if stages is not None:
        qs = qs.filter(stage_id__in=list(stages))
    qs = qs.annotate(contacts_count=Count("contacts")).values(*DEAL_FIELDS, "contacts_count").order_by("id")
    if ids is None:
        return list(qs)
    return [row for part in chunks(ids) for row in qs.filter(pk__in=part)]


def stage_history(opportunity_ids=None) -> dict[int, list[tuple[float, str, str]]]:
    """Stage changes per deal, oldest first: (changed_at, from_stage, to_stage)."""
    from opportunities.models import StageHistory

    qs = StageHistory.objects.order_by("changed_at", "id").values_list("opportunity_id", "changed_at", "from_stage",
                                                                        "to_stage")
    parts = [qs] if opportunity_ids is None else [qs.filter(opportunity_id__in=p) for p in chunks(opportunity_ids)]
    out: dict[int, list] = defaultdict(list)
    for part in parts:
        for opp_id, changed_at, frm, to in part.iterator(chunk_size=5000):
            out[opp_id].append((changed_at.timestamp(), frm, to))
    return out


def stages() -> dict[str, dict]:
    from opportunities.models import Stage

    return {s["key"]: s for s in Stage.objects.values("key", "label", "order", "default_probability", "is_closed", "is_won")}


def field_history(model_label: str, ids, fields: tuple[str, ...]) -> dict[int, list[tuple[float, str, str, str]]]:
    """Field changes recorded by the audit log, oldest first: (when, field, old, new)."""
    from auditlog.models import LogEntry
    from django.apps import apps
    from django.db.models import Q

    model = apps.get_model(model_label)
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


def owner_names(ids) -> dict[int, str]:
    from django.contrib.auth import get_user_model

    return {
        u["id"]: (f"{u['first_name']} {u['last_name']}".strip() or u["email"])
        for u in get_user_model().objects.filter(pk__in=list(ids)).values("id", "first_name", "last_name", "email")
    }


def write_deal_scores(scores: dict[int, int], *, actor=None) -> int:
    """Store `deal_score` on deals in one bulk update per score value, with audit entries."""
    if not scores:
        return 0
    return _bulk_write_grouped(_opportunity_model(), "deal_score", scores, actor=actor)


def _bulk_write_grouped(model, field: str, scores: dict[int, int], *, actor=None) -> int:
    """Scores take at most 101 values: one UPDATE per value (and id slice) beats a CASE per row."""
    old = {}
    for part in chunks(scores):
        old.update(model.objects.filter(pk__in=part).values_list("pk", field))
    by_value: dict[int, list[int]] = defaultdict(list)
    for pk, v in scores.items():
        if pk in old and old[pk] != v:
            by_value[v].append(pk)
    for value, pks in by_value.items():
        for part in chunks(pks):
            model.objects.filter(pk__in=part).update(**{field: value})
    _audit_scores(model, {pk: {field: [str(old[pk]), str(v)]} for v, pks in by_value.items() for pk in pks}, actor)
    return sum(len(p) for p in by_value.values())


def _audit_scores(model, changes: dict, actor) -> None:
    """Audit score changes as made by `actor` (None: the system), never by a request's leftover actor.

    django-auditlog's `set_actor` leaves its context behind after a request, so
    `audit_bulk`'s fallback to the current actor can name someone unrelated
    (in tests, a user that no longer exists).
    """
    from auditlog.context import auditlog_value

    from salesapp.audit import audit_bulk

    token = auditlog_value.set({"actor": actor})
    try:
        audit_bulk(model, changes, actor=actor)
    finally:
        auditlog_value.reset(token)


def _bulk_write(model, field: str, scores: dict[int, int], *, actor=None) -> int:

    old = {}
    for part in chunks(scores):
        old.update(model.objects.filter(pk__in=part).values_list("pk", field))
    changed = {pk: v for pk, v in scores.items() if pk in old and old[pk] != v}
    objs = [model(pk=pk, **{field: v}) for pk, v in changed.items()]
    model.objects.bulk_update(objs, [field], batch_size=2000)
    _audit_scores(model, {pk: {field: [str(old[pk]), str(v)]} for pk, v in changed.items()}, actor)
    return len(changed)


# --- leads --------------------------------------------------------------------

def _lead_model():
    from leads.models import Lead

    return Lead


def leads_visible(user):
    """Leads the user may see, through the leads app's selector."""
    from leads.selectors import lead_list

    return lead_list(user=user)


LEAD_FIELDS = (
    "id", "source", "status", "title", "industry", "employee_count", "annual_revenue", "country", "phone",
    "company", "website", "score", "created_at", "converted_at", "converted_opportunity_id", "updated_at",
    "last_activity_at", "assigned_to_id", "territory_id", "first_name", "last_name", "email",
    "converted_opportunity__stage_id", "converted_opportunity__actual_close_date",
)


def lead_rows(*, ids=None, statuses=None) -> list[dict]:
    qs = _lead_model().objects.all()
    if statuses is not None:
        qs = qs.filter(status__in=list(statuses))
    qs = qs.values(*LEAD_FIELDS).order_by("id")
    if ids is None:
        return list(qs)
    return [row for part in chunks(ids) for row in qs.filter(pk__in=part)]


def lead_scores(ids) -> dict[int, int]:
    out = {}
    for part in chunks([i for i in ids if i]):
        out.update(_lead_model().objects.filter(pk__in=part).values_list("pk", "score"))
    return out


def lead_rule_score(lead_row: dict) -> tuple[int, list[dict]]:
    """The leads app's rule score for a lead (before any learned model), with its factors."""
    from leads.scoring import rules_score

    lead = _lead_model().objects.filter(pk=lead_row["id"]).first()
    if lead is None:
        return 0, []
    result = rules_score(lead)
    factors = []
    for f in result.factors or []:
        if isinstance(f, dict):
            points = f.get("points") or 0
            factors.append({"feature": f.get("factor", ""), "label": f.get("detail") or f.get("factor", ""),
                            "direction": "up" if points >= 0 else "down", "weight": points})
    return int(result.score), factors


def write_lead_scores(scores: dict[int, int], *, actor=None, details: dict | None = None) -> int:
    """Store lead scores (and, where the leads app keeps them, the model and factors) in one bulk write."""
    if not scores:
        return 0
    model = _lead_model()
    has_details = details is not None and {"score_model", "score_factors"} <= {f.name for f in model._meta.fields}
    if not has_details:
        return _bulk_write(model, "score", scores, actor=actor)
    old = {}
    for part in chunks(scores):
        old.update(model.objects.filter(pk__in=part).values_list("pk", "score"))
    objs = [model(pk=pk, score=v, score_model=details[pk][0], score_factors=details[pk][1])
            for pk, v in scores.items() if pk in old]
    model.objects.bulk_update(objs, ["score", "score_model", "score_factors"], batch_size=2000)
    _audit_scores(model, {pk: {"score": [str(old[pk]), str(v)]} for pk, v in scores.items() if pk in old and old[pk] != v},
                  actor)
    return len(objs)


# --- activities ---------------------------------------------------------------

def activities(kind: str, ids, until=None) -> dict[int, list[tuple[float, str, str, object]]]:
    """Activities per record, oldest first: (when, type, direction, contact_id)."""
    from activities.selectors import activities_for

    ids = list(ids)
    if not ids:
        return {}
    rows = [a for part in chunks(ids) for a in activities_for(kind, part, until=until, limit=10_000_000)]
    key = "opportunity_id" if kind in ("opportunity", "deal") else "lead_id"
    out: dict[int, list] = defaultdict(list)
    for a in rows:
        rid = a.get(key)
        # Known when it was created, happened when it occurred: it counts from the later of the two.
        happened, known = ts(a.get("occurred_at") or a.get("completed_at")), ts(a.get("created_at"))
        when = max(t for t in (happened, known) if t is not None) if (happened or known) else None
        if rid is None or when is None:
            continue
        out[rid].append((when, str(a.get("type") or ""), str(a.get("direction") or ""), a.get("contact_id")))
    for lst in out.values():
        lst.sort(key=lambda r: r[0])
    return out


def activity_summary(kind: str, ids, now: datetime, types: tuple[str, ...]) -> dict[int, dict]:
    """Per record, activity counts by type and in the last 14 days, as known at `now` (grouped counts, for bulk).

    Only what had happened and been logged by `now` counts, as in `activities()`;
    ids=None counts for every record of the kind.
    """
    from datetime import timedelta

    from activities.store import get_store

    field = "opportunity_id" if kind in ("opportunity", "deal") else "lead_id"
    store = get_store()
    scopes = [[("null", field, False)]] if ids is None else [[("in", field, part)] for part in chunks(ids)]
    out: dict[int, dict] = defaultdict(lambda: {"counts": {}, "recent": 0})
    for scope in scopes:
        known = [*scope, ("lte", "occurred_at", now), ("lte", "created_at", now)]
        for typ in types:
            for rid, n in store.count_by(("and", [*known, ("eq", "type", typ)]), field).items():
                out[rid]["counts"][typ] = n
        recent = [*known, ("gte", "occurred_at", now - timedelta(days=14))]
        for rid, n in store.count_by(("and", recent), field).items():
            out[rid]["recent"] = n
    return dict(out)


def task_create(*, actor, subject: str, opportunity_id=None, lead_id=None, due_at=None):
    """Create a task for a recommendation through the activities service."""
    from activities import services

    return services.activity_log(
        actor=actor, type="task", subject=subject, opportunity_id=opportunity_id, lead_id=lead_id, due_at=due_at
    )
