"""Quota reads: lists, attainment (cached), roll-ups, the plan tree and the attainment series.

Every read takes the viewer and goes through the record rule: reps see their
own quotas, managers their subtree's and their territories', admins all.
Draft quotas are shown only to those who set quotas.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from quotas import attainment, sources
from quotas.models import Quota
from quotas.permissions import may_set, user_visible, visible_user_ids
from quotas.services import allocation_state
from salesapp.access import VIEW
from salesapp.models import User
from salesapp.periods import Period, parse_period


def quota_list(*, viewer, action: str = VIEW) -> QuerySet[Quota]:
    """Quotas the viewer may see (or change), holders joined."""
    qs = Quota.objects.select_related("user", "territory").restrict(viewer, action)
    if not may_set(viewer):
        qs = qs.filter(status=Quota.Status.PUBLISHED)
    return qs


def quota_get(*, viewer, pk, action: str = VIEW) -> Quota:
    """One quota the viewer may see; 404 otherwise."""
    quota = quota_list(viewer=viewer, action=action).filter(pk=pk).first()
    if quota is None:
        raise Http404("No such quota.")
    return quota


def _quota_row(q) -> dict:
    return {
        "id": q["pk"],
        "quota_type": q["quota_type"],
        "status": q["status"],
        "quota_amount": str(q["quota_amount"]),
        "attainment_amount": str(q["attainment_amount"]),
        "attainment_percentage": str(q["attainment_percentage"]),
        "attained_at": q["attained_at"].isoformat() if q["attained_at"] else None,
    }


def quota_attainment(*, viewer, user_id: int, period: str) -> dict:
    """One user's quotas and attainment for a period, from the cache (120 s) when there.

    The cached entry holds every quota of the user for the period; what the
    viewer may see of it (drafts) is filtered after the read.
    """
    if not user_visible(viewer, user_id):
        raise Http404("No such user.")
    window = parse_period(period)
    key = attainment.cache_key(user_id, window.key)
    rows = cache.get(key)
    if rows is None:
        rows = [
            _quota_row(q)
            for q in Quota.objects.filter(user_id=user_id, period=window.key)
            .order_by("quota_type")
            .values("pk", "quota_type", "status", "quota_amount", "attainment_amount", "attainment_percentage",
                    "attained_at")
        ]
        cache.set(key, rows, attainment.CACHE_TTL)
    if not may_set(viewer):
        rows = [r for r in rows if r["status"] == Quota.Status.PUBLISHED]
    return {"user_id": int(user_id), "period": window.key, "start_date": window.start.isoformat(),
            "end_date": window.end.isoformat(), "quotas": rows}


# --- roll-up ----------------------------------------------------------------------------------


def _entry(kind: str, holder, quota: Quota | None, measured: Decimal) -> dict:
    amount = quota.attainment_amount if quota else measured
    return {
        "kind": kind,
        "id": holder.pk,
        "name": str(holder),
        "quota_id": quota.pk if quota else None,
        "status": quota.status if quota else None,
        "quota_amount": quota.quota_amount if quota else None,
        "attainment_amount": amount,
        "attainment_percentage": quota.attainment_percentage if quota else None,
    }


def quota_rollup(*, viewer, period: str, user_id: int | None = None, territory_id: int | None = None,
                 quota_type: str = Quota.Type.REVENUE) -> dict:
    """For one node (a user or a territory) and period: its quota, each child's quota and attainment, totals.

    Children are direct reports or child territories. Children without a quota
    show their live attainment. The totals add up the children; the gap is the
    node's quota minus what its children's quotas add up to (negative when
    over-allocated, which is allowed).
    """
    window = parse_period(period)
    if quota_type not in Quota.Type.values:
        raise ValidationError({"quota_type": [f"{quota_type!r} is not one of {', '.join(Quota.Type.values)}."]})
    if user_id:
        if not user_visible(viewer, user_id):
            raise Http404("No such user.")
        node = User.objects.filter(pk=user_id).first()
        if node is None:
            raise Http404("No such user.")
        kind = "user"
        children = list(User.objects.filter(manager_id=node.pk, is_active=True).order_by("first_name", "last_name"))
    elif territory_id:
        from territories.selectors import territory_get

        node = territory_get(user=viewer, pk=territory_id)  # 404 when not visible
        kind = "territory"
        children = sources.territory_children(node.pk)
    else:
        raise ValidationError({"user": ["Give a user or a territory."]})
    field_name = "user_id" if kind == "user" else "territory_id"
    quotas = {
        getattr(q, field_name): q
        for q in Quota.objects.filter(period=window.key, quota_type=quota_type,
                                      **{f"{field_name}__in": [node.pk, *[c.pk for c in children]]})
    }
    if not may_set(viewer):
        quotas = {k: q for k, q in quotas.items() if q.status == Quota.Status.PUBLISHED}
    missing = [(kind, h.pk, quota_type) for h in [node, *children] if h.pk not in quotas]
    measured = attainment.Measurer().measure(window.start, window.end, missing) if missing else {}
    node_entry = _entry(kind, node, quotas.get(node.pk), measured.get((kind, node.pk, quota_type), Decimal(0)))
    rows = [_entry(kind, c, quotas.get(c.pk), measured.get((kind, c.pk, quota_type), Decimal(0))) for c in children]
    for row in rows:
        if row["quota_amount"] is None:
            continue
        row["attainment_percentage"] = attainment.percentage(row["attainment_amount"], row["quota_amount"])
    total_quota = sum((r["quota_amount"] for r in rows if r["quota_amount"] is not None), Decimal(0))
    total_attained = sum((r["attainment_amount"] for r in rows), Decimal(0))
    result = {
        "period": window.key,
        "start_date": window.start,
        "end_date": window.end,
        "quota_type": quota_type,
        "node": node_entry,
        "children": rows,
        "totals": {
            "quota_amount": total_quota,
            "attainment_amount": total_attained,
            "attainment_percentage": attainment.percentage(total_attained, total_quota),
        },
        "allocation": None,
    }
    if node_entry["quota_amount"] is not None:
        gap = node_entry["quota_amount"] - total_quota
        result["allocation"] = {"quota_amount": node_entry["quota_amount"], "allocated": total_quota, "gap": gap,
                                "state": allocation_state(gap)}
    return result


# --- the planning tree --------------------------------------------------------------------------


def plan_user_tree(*, viewer, period: str, quota_type: str = Quota.Type.REVENUE) -> list[dict]:
    """The reporting hierarchy the viewer can see, depth-first, each person with their quota and gap."""
    window = parse_period(period)
    ids = visible_user_ids(viewer)
    users = User.objects.filter(is_active=True)
    if ids is not None:
        users = users.filter(pk__in=ids)
    users = list(users.order_by("first_name", "last_name", "email"))
    by_id = {u.pk: u for u in users}
    children = defaultdict(list)
    roots = []
    for u in users:
        (children[u.manager_id] if u.manager_id in by_id else roots).append(u)
    quotas = {q.user_id: q for q in quota_list(viewer=viewer).filter(period=window.key, quota_type=quota_type,
                                                                      user_id__in=list(by_id))}
    rows: list[dict] = []

    def walk(user, depth):
        quota = quotas.get(user.pk)
        kids = children.get(user.pk, [])
        allocated = sum((quotas[k.pk].quota_amount for k in kids if k.pk in quotas), Decimal(0))
        gap = (quota.quota_amount - allocated) if quota and kids else None
        rows.append({
            "kind": "user", "holder": user, "depth": min(depth, 4), "quota": quota, "has_children": bool(kids),
            "allocated": allocated if kids else None, "gap": gap,
            "state": allocation_state(gap) if gap is not None else None,
        })
        for kid in kids:
            walk(kid, depth + 1)

    for root in roots:
        walk(root, 0)
    return rows


def plan_territory_tree(*, viewer, period: str, quota_type: str = Quota.Type.REVENUE) -> list[dict]:
    """The territories of the active plan the viewer can see, as a tree, each with its quota and gap."""
    from territories.selectors import territory_list

    window = parse_period(period)
    territories = territory_list(user=viewer).filter(is_active=True)
    active = territories.filter(model__state="active")
    if active.exists():
        territories = active
    territories = list(territories.order_by("name"))
    by_id = {t.pk: t for t in territories}
    children = defaultdict(list)
    roots = []
    for t in territories:
        (children[t.parent_id] if t.parent_id in by_id else roots).append(t)
    quotas = {q.territory_id: q for q in quota_list(viewer=viewer).filter(
        period=window.key, quota_type=quota_type, territory_id__in=list(by_id))}
    rows: list[dict] = []

    def walk(territory, depth):
        quota = quotas.get(territory.pk)
        kids = children.get(territory.pk, [])
        allocated = sum((quotas[k.pk].quota_amount for k in kids if k.pk in quotas), Decimal(0))
        gap = (quota.quota_amount - allocated) if quota and kids else None
        rows.append({
            "kind": "territory", "holder": territory, "depth": min(depth, 4), "quota": quota,
            "has_children": bool(kids), "allocated": allocated if kids else None, "gap": gap,
            "state": allocation_state(gap) if gap is not None else None,
        })
        for kid in kids:
            walk(kid, depth + 1)

    for root in roots:
        walk(root, 0)
    return rows


# --- the attainment series for the dashboard chart ---------------------------------------------


def attainment_series(*, viewer, period: str, user_id: int, quota_type: str = Quota.Type.REVENUE) -> dict:
    """Cumulative attainment of a user's subtree, day by day through the period, and the quota's pace line."""
    if not user_visible(viewer, user_id):
        raise Http404("No such user.")
    window: Period = parse_period(period)
    owners = attainment.ReportingTree().subtree(int(user_id))
    today = timezone.localdate()
    last = min(window.end, today) if window.start <= today else window.start - timedelta(days=1)
    per_day: dict = {}
    if quota_type in attainment.DEAL_TYPES:
        for r in sources.won_rows(window.start, window.end, owner_ids=owners):
            value = (r["amount"] or 0) if quota_type == Quota.Type.REVENUE else 1
            per_day[r["actual_close_date"]] = per_day.get(r["actual_close_date"], 0) + value
    quota = quota_list(viewer=viewer).filter(user_id=user_id, period=window.key, quota_type=quota_type).first()
    labels, actual, pace = [], [], []
    days = (window.end - window.start).days + 1
    running = Decimal(0)
    day = window.start
    while day <= window.end:
        labels.append(day.isoformat())
        running += Decimal(per_day.get(day, 0))
        actual.append(float(running) if day <= last else None)
        if quota:
            pace.append(round(float(quota.quota_amount) * ((day - window.start).days + 1) / days, 2))
        day += timedelta(days=1)
    return {"labels": labels, "actual": actual, "pace": pace,
            "quota_amount": float(quota.quota_amount) if quota else None, "quota_type": quota_type}
