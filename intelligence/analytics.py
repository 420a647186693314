"""Pipeline analytics over the deals and leads a user may see, cached until an event changes them.

Reports: win rate, average deal size, sales-cycle length, pipeline velocity,
lead-to-deal-to-won funnel, time in each stage and close-date slippage, each
grouped by rep, team (the owner's manager), territory or period (month).
"""

from __future__ import annotations

from collections import defaultdict

from intelligence import sources
from intelligence.sources import ts
from opportunities.models import Opportunity
from salesapp import cache, fields

REPORTS = ("win_rate", "deal_size", "cycle_length", "velocity", "funnel", "time_in_stage", "slippage")
GROUPS = ("rep", "team", "territory", "period")
GEN_KEY = "analytics:generation"
TTL = 600
DAY = 86400.0


def generation() -> int | str:
    return cache.version(GEN_KEY)


def invalidate() -> None:
    """Every cached report is stale: bump the generation the keys carry."""
    cache.version_bump(GEN_KEY)


def report(user, name: str, group_by: str = "rep") -> dict:
    """One report for what the user may see, from the cache when nothing changed since."""
    if name not in REPORTS:
        raise KeyError(name)
    if group_by not in GROUPS:
        group_by = "rep"
    key = f"analytics:{generation()}:{name}:{group_by}:{user.pk}"
    data = cache.get(key)
    if data is None:
        data = {"report": name, "group_by": group_by, "rows": BUILDERS[name](user, group_by, sources.pipeline())}
        cache.set(key, data, TTL)
    return data


DEAL_COLUMNS = ("id", "owner_id", "owner__manager_id", "territory_id", "territory__name", "amount", "created_at",
                "actual_close_date", "expected_close_date", "stage_id", "stage_changed_at", "margin")


def _deals(user, stages=None):
    """Rows of the deals the user may see; restricted columns (margin) only where the field policy allows."""
    qs = sources.opportunities_visible(user)
    if stages is not None:
        qs = qs.filter(stage_id__in=stages)
    return list(qs.values(*fields.visible(user, Opportunity, DEAL_COLUMNS)))


def _names(ids) -> dict:
    return sources.owner_names([i for i in ids if i])


def _group_key(row: dict, group_by: str, date_field: str = "actual_close_date"):
    if group_by == "rep":
        return row["owner_id"]
    if group_by == "team":
        return row["owner__manager_id"] or row["owner_id"]
    if group_by == "territory":
        return row["territory_id"]
    value = row.get(date_field)
    return value.strftime("%Y-%m") if value else None


def _label(keys, rows, group_by: str) -> dict:
    if group_by in ("rep", "team"):
        names = _names(keys)
        return {k: (names.get(k, "Unassigned") if group_by == "rep" else f"Team {names.get(k, '?')}") for k in keys}
    if group_by == "territory":
        names = {r["territory_id"]: r.get("territory__name") for r in rows}
        return {k: names.get(k) or "No territory" for k in keys}
    return {k: k or "No date" for k in keys}


def _grouped(rows, group_by, date_field="actual_close_date"):
    groups = defaultdict(list)
    for r in rows:
        groups[_group_key(r, group_by, date_field)].append(r)
    labels = _label(list(groups), rows, group_by)
    return sorted(((labels[k], v) for k, v in groups.items()), key=lambda kv: str(kv[0]))


def _cycle_days(r) -> float | None:
    end = ts(r["actual_close_date"]) or ts(r["stage_changed_at"])
    start = ts(r["created_at"])
    return (end - start) / DAY if end and start else None


def _avg(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 2) if values else None


def win_rate(user, group_by, pipeline):
    out = []
    for label, rows in _grouped(_deals(user, pipeline.closed), group_by):
        won = sum(1 for r in rows if r["stage_id"] in pipeline.won)
        out.append({"group": label, "won": won, "lost": len(rows) - won, "win_rate": round(won / len(rows), 4)})
    return out


def deal_size(user, group_by, pipeline):
    """Won deals' average amount per group, and their average margin for roles that may see margins."""
    out = []
    for label, rows in _grouped(_deals(user, pipeline.won), group_by):
        row = {"group": label, "won": len(rows), "average_amount": _avg([float(r["amount"]) for r in rows if r["amount"]])}
        if fields.may_read(user, Opportunity, "margin"):
            row["average_margin"] = _avg([float(r["margin"]) for r in rows if r["margin"] is not None])
        out.append(row)
    return out


def cycle_length(user, group_by, pipeline):
    return [{"group": label, "won": len(rows), "average_days": _avg([_cycle_days(r) for r in rows])}
            for label, rows in _grouped(_deals(user, pipeline.won), group_by)]


def velocity(user, group_by, pipeline):
    """Pipeline velocity: open deals x average won amount x win rate / cycle days = value per day."""
    rows = _deals(user)
    open_by = defaultdict(int)
    for r in rows:
        if r["stage_id"] in pipeline.open:
            open_by[_group_key(r, group_by, "expected_close_date")] += 1
    out = []
    closed = [r for r in rows if r["stage_id"] in pipeline.closed]
    groups = defaultdict(list)
    for r in closed:
        groups[_group_key(r, group_by)].append(r)
    keys = set(groups) | set(open_by)
    labels = _label(list(keys), rows, group_by)
    for k in sorted(keys, key=lambda k: str(labels[k])):
        g = groups.get(k, [])
        won = [r for r in g if r["stage_id"] in pipeline.won]
        rate = len(won) / len(g) if g else None
        size = _avg([float(r["amount"]) for r in won if r["amount"]])
        cycle = _avg([_cycle_days(r) for r in won])
        vel = round(open_by[k] * size * rate / cycle, 2) if rate and size and cycle else None
        out.append({"group": labels[k], "open_deals": open_by[k], "win_rate": round(rate, 4) if rate is not None else None,
                    "average_won_amount": size, "average_cycle_days": cycle, "velocity_per_day": vel})
    return out


def funnel(user, group_by, pipeline):
    """Leads -> converted into deals -> deals won, by the lead's owner, territory or month created."""
    qs = sources.leads_visible(user).values(
        "id", "assigned_to_id", "assigned_to__manager_id", "territory_id", "territory__name", "created_at", "status",
        "converted_opportunity__stage_id")
    rows = [{"owner_id": r["assigned_to_id"], "owner__manager_id": r["assigned_to__manager_id"],
             "territory_id": r["territory_id"], "territory__name": r["territory__name"],
             "created_at": r["created_at"], "status": r["status"], "opp_stage": r["converted_opportunity__stage_id"]}
            for r in qs]
    out = []
    for label, g in _grouped(rows, group_by, "created_at"):
        converted = sum(1 for r in g if r["status"] == "converted")
        won = sum(1 for r in g if r["opp_stage"] in pipeline.won)
        out.append({"group": label, "leads": len(g), "converted": converted, "won": won,
                    "lead_to_deal": round(converted / len(g), 4) if g else None,
                    "deal_to_won": round(won / converted, 4) if converted else None})
    return out


def time_in_stage(user, group_by, pipeline):
    """Average days deals spent in each open stage before moving on (from stage history)."""
    ids = list(sources.opportunities_visible(user).values_list("id", flat=True))
    deals = {r["id"]: r for r in _deals(user)}
    history = sources.stage_history(ids)
    spent = defaultdict(list)
    for oid, entries in history.items():
        prev = ts(deals[oid]["created_at"]) if oid in deals else None
        for when, frm, _to in entries:
            if frm and prev is not None:
                spent[frm].append((when - prev) / DAY)
            prev = when
    order = {s: i for i, s in enumerate(pipeline.open)}
    return [{"group": pipeline.labels[s], "stage": s, "transitions": len(v), "average_days": _avg(v)}
            for s, v in sorted(spent.items(), key=lambda kv: order.get(kv[0], 99))]


def slippage(user, group_by, pipeline):
    """How often and how far close dates moved: deals closed after their first expected date, and pushes."""
    rows = _deals(user, pipeline.closed)
    changes = sources.field_history(Opportunity, [r["id"] for r in rows], ("expected_close_date",))
    out = []
    for label, g in _grouped(rows, group_by):
        slipped, pushes, days = 0, 0, []
        for r in g:
            ch = changes.get(r["id"], [])
            first = ts(ch[0][2]) if ch else ts(r["expected_close_date"])
            pushes += sum(1 for _w, _f, old, new in ch if ts(new) and ts(old) and ts(new) > ts(old))
            actual = ts(r["actual_close_date"])
            if first and actual and actual > first:
                slipped += 1
                days.append((actual - first) / DAY)
        out.append({"group": label, "closed": len(g), "slipped": slipped, "slipped_share": round(slipped / len(g), 4),
                    "pushes_per_deal": round(pushes / len(g), 2), "average_days_slipped": _avg(days)})
    return out


BUILDERS = {"win_rate": win_rate, "deal_size": deal_size, "cycle_length": cycle_length, "velocity": velocity,
            "funnel": funnel, "time_in_stage": time_in_stage, "slippage": slippage}
