"""Quota reads: lists, attainment (cached), roll-ups, the plan tree and the attainment series.

Every read takes the user and goes through the quota's record rule (restrict):
reps see their own quotas, managers their subtree's and their territories',
admins all. People are those the kernel lets the user see (`user_list`),
territories those the territories app does. Draft quotas are a plan not yet
handed out: shown only to those who set quotas.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from quotas import attainment, sources
from quotas.models import Quota
from quotas.services import allocation_state
from salesapp.access import VIEW
from salesapp.assignment import assignable_users
from salesapp.hierarchy import user_subtree_ids
from salesapp.periods import Period, parse_period
from salesapp.selectors import user_get, user_list
from territories.selectors import territory_get, territory_list


def quota_list(*, user, action: str = VIEW) -> QuerySet[Quota]:
    """Quotas the user may see (or change), holders joined (drafts only for those who set quotas: the rule)."""
    return Quota.objects.restrict(user, action).select_related("user", "territory")


def quota_get(*, user, pk, action: str = VIEW) -> Quota:
    """One quota the user may see; 404 otherwise."""
    quota = quota_list(user=user, action=action).filter(pk=pk).first()
    if quota is None:
        raise Http404("No such quota.")
    return quota


def quota_attainment(*, user, user_id: int, period: str) -> dict:
    """One person's quotas and attainment for a period, the figures from the cache (120 s) when there.

    The cached entry holds every quota of the person for the period; what `user`
    may see of it is decided by restrict() on those quota ids (one indexed query).
    """
    user_get(user=user, pk=user_id)
    window = parse_period(period)
    rows = attainment.user_quota_rows(user_id, window.key)
    visible = set(quota_list(user=user).filter(pk__in=[r["id"] for r in rows]).values_list("pk", flat=True))
    return {"user_id": int(user_id), "period": window.key, "start_date": window.start.isoformat(),
            "end_date": window.end.isoformat(), "quotas": [r for r in rows if r["id"] in visible]}


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


def quota_rollup(*, user, period: str, user_id: int | None = None, territory_id: int | None = None,
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
        node = user_get(user=user, pk=user_id)
        kind = "user"
        children = list(user_list(user=user).filter(manager_id=node.pk, is_active=True)
                        .order_by("first_name", "last_name"))
    elif territory_id:
        node = territory_get(user=user, pk=territory_id)
        kind = "territory"
        children = list(territory_list(user=user).filter(parent_id=node.pk, is_active=True).order_by("name"))
    else:
        raise ValidationError({"user": ["Give a user or a territory."]})
    holders = [node.pk, *[c.pk for c in children]]
    found = quota_list(user=user).filter(period=window.key, quota_type=quota_type, **{f"{kind}_id__in": holders})
    quotas = {q.user_id if kind == "user" else q.territory_id: q for q in found}
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


def plan_user_tree(*, user, period: str, quota_type: str = Quota.Type.REVENUE) -> list[dict]:
    """The people `user` may set quotas for as their reporting hierarchy, depth-first, with quota and gap."""
    window = parse_period(period)
    users = list(assignable_users(user))
    by_id = {u.pk: u for u in users}
    children = defaultdict(list)
    roots = []
    for u in users:
        (children[u.manager_id] if u.manager_id in by_id else roots).append(u)
    quotas = {q.user_id: q for q in quota_list(user=user).filter(period=window.key, quota_type=quota_type,
                                                                  user_id__in=list(by_id))}
    rows: list[dict] = []

    def walk(person, depth):
        quota = quotas.get(person.pk)
        kids = children.get(person.pk, [])
        allocated = sum((quotas[k.pk].quota_amount for k in kids if k.pk in quotas), Decimal(0))
        gap = (quota.quota_amount - allocated) if quota and kids else None
        rows.append({
            "kind": "user", "holder": person, "depth": min(depth, 4), "quota": quota, "has_children": bool(kids),
            "allocated": allocated if kids else None, "gap": gap,
            "state": allocation_state(gap) if gap is not None else None,
        })
        for kid in kids:
            walk(kid, depth + 1)

    for root in roots:
        walk(root, 0)
    return rows


def plan_territory_tree(*, user, period: str, quota_type: str = Quota.Type.REVENUE) -> list[dict]:
    """The territories of the active plan the user can see, as a tree, each with its quota and gap."""
    window = parse_period(period)
    territories = territory_list(user=user).filter(is_active=True)
    active = territories.filter(model__state="active")
    if active.exists():
        territories = active
    territories = list(territories.order_by("name"))
    by_id = {t.pk: t for t in territories}
    children = defaultdict(list)
    roots = []
    for t in territories:
        (children[t.parent_id] if t.parent_id in by_id else roots).append(t)
    quotas = {q.territory_id: q for q in quota_list(user=user).filter(
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


def attainment_series(*, user, period: str, user_id: int, quota_type: str = Quota.Type.REVENUE) -> dict:
    """Cumulative attainment of a person's subtree, day by day through the period, and the quota's pace line."""
    person = user_get(user=user, pk=user_id)
    window: Period = parse_period(period)
    owners = user_subtree_ids(person.pk)
    today = timezone.localdate()
    last = min(window.end, today) if window.start <= today else window.start - timedelta(days=1)
    per_day: dict = {}
    if quota_type in attainment.DEAL_TYPES:
        for r in sources.won_rows(window.start, window.end, owner_ids=owners):
            value = (r["amount"] or 0) if quota_type == Quota.Type.REVENUE else 1
            per_day[r["actual_close_date"]] = per_day.get(r["actual_close_date"], 0) + value
    quota = quota_list(user=user).filter(user_id=user_id, period=window.key, quota_type=quota_type).first()
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
