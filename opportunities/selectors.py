"""Reads for accounts, contacts, opportunities, the pipeline and forecasts.

Each read that serves a user takes that user and goes through `restrict()`. The few
system-level reads for other apps (`won_opportunities`, `stage_history_for`) say so.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from opportunities.models import (
    Account,
    Contact,
    ForecastAdjustment,
    ForecastSnapshot,
    ForecastSubmission,
    LossReason,
    Opportunity,
    Stage,
    StageHistory,
)
from opportunities.periods import Period, parse_period
from salesapp.access import VIEW
from salesapp.hierarchy import user_subtree_ids
from salesapp.models import User
from salesapp.roles import Role

PIPELINE_TTL = 60
PIPELINE_VERSION_KEY = "pipeline:version"
ZERO = Decimal("0")
OPEN_STAGE_KEYS = ("discovery", "qualification", "proposal", "negotiation")


# --- accounts and contacts -------------------------------------------------------------------------

def account_list(user, filters: dict | None = None, action: str = VIEW) -> QuerySet[Account]:
    """Accounts the user may see (or change), with owner and territory joined."""
    qs = Account.objects.select_related("owner", "territory").restrict(user, action)
    if filters:
        from opportunities.filtersets import AccountFilterSet

        qs = AccountFilterSet(filters, queryset=qs).qs
    return qs


def account_get(user, pk, action: str = VIEW) -> Account:
    """One account the user may see; 404 otherwise."""
    try:
        return account_list(user, action=action).select_related("parent").get(pk=pk)
    except (Account.DoesNotExist, ValueError, TypeError):
        raise Http404("No such account.")


def contact_list(user, filters: dict | None = None, action: str = VIEW) -> QuerySet[Contact]:
    """Contacts at accounts the user may see."""
    qs = Contact.objects.select_related("account", "owner").restrict(user, action)
    if filters:
        from opportunities.filtersets import ContactFilterSet

        qs = ContactFilterSet(filters, queryset=qs).qs
    return qs


def contact_get(user, pk, action: str = VIEW) -> Contact:
    try:
        return contact_list(user, action=action).get(pk=pk)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404("No such contact.")


# --- opportunities ---------------------------------------------------------------------------------

def opportunity_list(user, filters: dict | None = None, action: str = VIEW) -> QuerySet[Opportunity]:
    """Deals the user may see (or change), filtered like the UI list and the API."""
    qs = Opportunity.objects.select_related("account", "owner", "stage", "territory").restrict(user, action)
    if filters:
        from opportunities.filtersets import OpportunityFilterSet

        qs = OpportunityFilterSet(filters, queryset=qs).qs
    return qs


def opportunity_get(user, pk, action: str = VIEW) -> Opportunity:
    """One deal the user may see; 404 otherwise (never 403, so ids cannot be probed)."""
    try:
        return opportunity_list(user, action=action).select_related("loss_reason").get(pk=pk)
    except (Opportunity.DoesNotExist, ValueError, TypeError):
        raise Http404("No such opportunity.")


def stage_list() -> QuerySet[Stage]:
    return Stage.objects.order_by("order")


def open_stages() -> list[Stage]:
    return list(Stage.objects.filter(is_closed=False).order_by("order"))


def loss_reason_list() -> QuerySet[LossReason]:
    return LossReason.objects.filter(is_active=True).order_by("name")


def stage_history_for(ids) -> dict[int, list[dict]]:
    """Stage changes of the given deals, oldest first, keyed by deal id.

    System-level: callers pass ids they already selected through `restrict()`.
    """
    out: dict[int, list[dict]] = defaultdict(list)
    rows = (
        StageHistory.objects.filter(opportunity_id__in=list(ids))
        .order_by("changed_at", "id")
        .values("id", "opportunity_id", "from_stage", "to_stage", "changed_by_id", "changed_by__email",
                "changed_at", "days_in_previous_stage", "note")
    )
    for row in rows:
        out[row["opportunity_id"]].append(row)
    return dict(out)


def won_opportunities(start, end, owner_ids=None, territory_ids=None, group_by: str | None = None):
    """Deals closed won with `actual_close_date` in [start, end], as plain aggregates.

    Without `group_by`: {"count": n, "amount": Decimal}. With `group_by="owner"` or
    `"territory"`: {owner_id or territory_id: {"count", "amount"}}. System-level (quota
    attainment); callers decide who may read the figures.
    """
    qs = Opportunity.objects.filter(stage_id="closed_won", actual_close_date__gte=start, actual_close_date__lte=end)
    if owner_ids is not None:
        qs = qs.filter(owner_id__in=list(owner_ids))
    if territory_ids is not None:
        qs = qs.filter(territory_id__in=list(territory_ids))
    aggregates = {"count": Count("id"), "amount": Coalesce(Sum("amount"), ZERO, output_field=DecimalField())}
    if group_by is None:
        return qs.aggregate(**aggregates)
    key = {"owner": "owner_id", "territory": "territory_id"}[group_by]
    return {row[key]: {"count": row["count"], "amount": row["amount"]}
            for row in qs.order_by().values(key).annotate(**aggregates)}


def won_opportunity_rows(start, end, owner_ids=None, territory_ids=None) -> list[dict]:
    """The won deals behind `won_opportunities`, as plain rows (id, owner, territory, amount, date)."""
    qs = Opportunity.objects.filter(stage_id="closed_won", actual_close_date__gte=start, actual_close_date__lte=end)
    if owner_ids is not None:
        qs = qs.filter(owner_id__in=list(owner_ids))
    if territory_ids is not None:
        qs = qs.filter(territory_id__in=list(territory_ids))
    return list(qs.order_by("actual_close_date", "id").values("id", "owner_id", "territory_id", "amount",
                                                              "actual_close_date"))


def territory_subtree_ids(territory_id: int) -> list[int]:
    """A territory and all territories below it (the territories app's one-query selector)."""
    from territories import selectors as territory_selectors

    return territory_selectors.territory_subtree_ids(territory_id)


# --- pipeline summary ------------------------------------------------------------------------------

def _pipeline_version() -> int:
    version = cache.get(PIPELINE_VERSION_KEY)
    if version is None:
        cache.add(PIPELINE_VERSION_KEY, 1, timeout=None)
        version = cache.get(PIPELINE_VERSION_KEY) or 1
    return version


def pipeline_invalidate() -> None:
    """Make every cached pipeline summary stale (called on every opportunity event)."""
    try:
        cache.incr(PIPELINE_VERSION_KEY)
    except ValueError:
        cache.add(PIPELINE_VERSION_KEY, 2, timeout=None)


def pipeline_scope(user, owner=None, team=None, territory=None) -> QuerySet[Opportunity]:
    """Open deals the user may see, narrowed to an owner, a manager's subtree or a territory subtree."""
    qs = Opportunity.objects.filter(stage_id__in=OPEN_STAGE_KEYS).restrict(user, VIEW)
    if owner:
        qs = qs.filter(owner_id=int(owner))
    if team:
        qs = qs.filter(owner_id__in=user_subtree_ids(int(team)))
    if territory:
        qs = qs.filter(territory_id__in=territory_subtree_ids(int(territory)))
    return qs


def pipeline_summary_uncached(user, owner=None, team=None, territory=None) -> dict:
    """Count, total amount and average probability per open stage: one grouped query."""
    money = DecimalField(max_digits=20, decimal_places=2)
    rows = (
        pipeline_scope(user, owner, team, territory)
        .order_by()
        .values("stage_id")
        .annotate(count=Count("id"), total=Coalesce(Sum("amount"), ZERO, output_field=money),
                  probability_sum=Sum("probability"),
                  weighted=Coalesce(Sum(ExpressionWrapper(F("amount") * F("probability"), output_field=money)),
                                    ZERO, output_field=money))
    )
    by_stage = {r["stage_id"]: r for r in rows}
    stages = []
    total_count, total_amount, weighted = 0, ZERO, ZERO
    for stage in open_stages():
        row = by_stage.get(stage.key, {"count": 0, "total": ZERO, "probability_sum": 0, "weighted": ZERO})
        count = row["count"]
        avg = round(row["probability_sum"] / count, 1) if count else None
        stages.append({"stage": stage.key, "label": stage.label, "count": count, "total_amount": row["total"],
                       "average_probability": avg})
        total_count += count
        total_amount += row["total"]
        weighted += Decimal(row["weighted"]) / 100
    return {
        "stages": stages,
        "count": total_count,
        "total_amount": total_amount,
        "weighted_amount": Decimal(weighted).quantize(Decimal("0.01")),
        "filters": {"owner": owner, "team": team, "territory": territory},
    }


def pipeline_cache_key(user_id: int) -> str:
    return f"pipeline:user:{user_id}"


def pipeline_summary(user, owner=None, team=None, territory=None) -> dict:
    """The pipeline summary, served from `pipeline:user:{userId}` (60 s) while no opportunity event
    has happened since it was computed; any opportunity event makes it stale at once.
    """
    owner, team, territory = (int(v) if v not in (None, "") else None for v in (owner, team, territory))
    key = pipeline_cache_key(user.pk)
    variant = f"{owner}:{team}:{territory}"
    version = _pipeline_version()
    entry = cache.get(key)
    if entry and entry.get("version") == version and variant in entry["variants"]:
        return {**entry["variants"][variant], "cached": True}
    summary = pipeline_summary_uncached(user, owner, team, territory)
    variants = entry["variants"] if entry and entry.get("version") == version else {}
    variants[variant] = summary
    cache.set(key, {"version": version, "variants": variants}, PIPELINE_TTL)
    return {**summary, "cached": False}


# --- forecasts -------------------------------------------------------------------------------------

CATEGORY_FIELDS = ("closed_won", "commit", "best_case", "pipeline", "weighted")


def _empty_figures() -> dict:
    return dict.fromkeys(CATEGORY_FIELDS, ZERO)


def _personal_figures(period: Period, *, owner_ids=None, territory_ids=None) -> dict[int, dict]:
    """Per owner: won in the period (by close date), open commit/best case/pipeline and the
    probability-weighted amount of open non-omitted deals expected to close in the period.
    """
    money = DecimalField(max_digits=20, decimal_places=2)
    in_period_open = Q(stage_id__in=OPEN_STAGE_KEYS, expected_close_date__gte=period.start,
                       expected_close_date__lte=period.end)
    won = Q(stage_id="closed_won", actual_close_date__gte=period.start, actual_close_date__lte=period.end)
    qs = Opportunity.objects.filter(in_period_open | won)
    if owner_ids is not None:
        qs = qs.filter(owner_id__in=list(owner_ids))
    if territory_ids is not None:
        qs = qs.filter(territory_id__in=list(territory_ids))
    rows = qs.order_by().values("owner_id").annotate(
        closed_won=Coalesce(Sum("amount", filter=won), ZERO, output_field=money),
        commit=Coalesce(Sum("amount", filter=in_period_open & Q(forecast_category="commit")), ZERO, output_field=money),
        best_case=Coalesce(Sum("amount", filter=in_period_open & Q(forecast_category="best_case")), ZERO,
                           output_field=money),
        pipeline=Coalesce(Sum("amount", filter=in_period_open & Q(forecast_category="pipeline")), ZERO,
                          output_field=money),
        weighted=Coalesce(
            Sum(ExpressionWrapper(F("amount") * F("probability") / 100, output_field=money),
                filter=in_period_open & ~Q(forecast_category="omitted")), ZERO, output_field=money),
    )
    return {r.pop("owner_id"): {k: Decimal(v).quantize(Decimal("0.01")) for k, v in r.items()} for r in rows}


def _latest_adjustments(period: Period, user_ids) -> dict[int, dict[str, ForecastAdjustment]]:
    latest: dict[int, dict[str, ForecastAdjustment]] = defaultdict(dict)
    for adj in (ForecastAdjustment.objects.filter(period=period.name, user_id__in=list(user_ids))
                .select_related("adjusted_by").order_by("created_at", "id")):
        latest[adj.user_id][adj.category] = adj  # later rows win
    return latest


def _latest_submissions(period: Period, user_ids, *, before=None) -> dict[int, ForecastSubmission]:
    latest = {}
    qs = ForecastSubmission.objects.filter(period=period.name, user_id__in=list(user_ids))
    if before is not None:
        qs = qs.filter(submitted_at__date__lte=before)
    for sub in qs.order_by("submitted_at", "id"):
        latest[sub.user_id] = sub
    return latest


def forecast_rollup(viewer, period_name: str, *, user_id: int | None = None) -> dict:
    """The forecast for `user_id`'s team (default: the viewer) in one period.

    Rows: the head's own deals, then one row per direct report carrying that report's whole
    subtree; then the team total. Each row has raw figures and adjusted commit / best case,
    where a manager's adjustment of a person replaces that person's (subtree) figure, and the
    person's latest submission. Three queries however deep the hierarchy is.
    """
    period = parse_period(period_name)
    head_id = int(user_id or viewer.pk)
    if viewer.role != Role.ADMIN and head_id not in user_subtree_ids(viewer.pk):
        raise Http404("No such user.")
    subtree = user_subtree_ids(head_id)
    users = {u["id"]: u for u in User.objects.filter(pk__in=subtree).values(
        "id", "email", "first_name", "last_name", "manager_id", "role")}
    children = defaultdict(list)
    for u in users.values():
        if u["id"] != head_id and u["manager_id"] in users:
            children[u["manager_id"]].append(u["id"])
    may_adjust = viewer.role == Role.ADMIN or viewer.has_perm("salesapp.forecast:adjust")
    personal = _personal_figures(period, owner_ids=subtree)
    adjustments = _latest_adjustments(period, subtree)
    submissions = _latest_submissions(period, subtree)

    memo: dict[int, dict] = {}

    def figures(uid: int) -> dict:
        """Raw subtree figures and adjusted commit/best case for one person."""
        if uid in memo:
            return memo[uid]
        raw = dict(personal.get(uid, _empty_figures()))
        adj_commit, adj_best = raw["commit"], raw["best_case"]
        for child in children.get(uid, ()):
            sub = figures(child)
            for f in CATEGORY_FIELDS:
                raw[f] += sub[f]
            adj_commit += sub["adjusted_commit"]
            adj_best += sub["adjusted_best_case"]
        own_adj = adjustments.get(uid, {})
        if uid != head_id or viewer.pk != head_id:
            if "commit" in own_adj:
                adj_commit = own_adj["commit"].amount
            if "best_case" in own_adj:
                adj_best = own_adj["best_case"].amount
        memo[uid] = {**raw, "adjusted_commit": adj_commit, "adjusted_best_case": adj_best}
        return memo[uid]

    def name_of(uid):
        u = users[uid]
        return f"{u['first_name']} {u['last_name']}".strip() or u["email"]

    def row(uid, *, own_only=False):
        if own_only:
            raw = dict(personal.get(uid, _empty_figures()))
            data = {**raw, "adjusted_commit": raw["commit"], "adjusted_best_case": raw["best_case"]}
        else:
            data = figures(uid)
        adj = {} if own_only else adjustments.get(uid, {})
        sub = None if own_only else submissions.get(uid)
        return {
            "user_id": uid,
            "name": name_of(uid) + (" (own deals)" if own_only else ""),
            "email": users[uid]["email"],
            "has_reports": bool(children.get(uid)) and not own_only,
            "own_only": own_only,
            **data,
            "adjustments": {c: {"amount": a.amount, "reason": a.reason, "by": a.adjusted_by_id,
                                "at": a.created_at} for c, a in adj.items()},
            "submission": ({"commit": sub.commit, "best_case": sub.best_case, "notes": sub.notes,
                            "submitted_at": sub.submitted_at} if sub else None),
            "can_adjust": may_adjust and not own_only and uid != viewer.pk,
        }

    rows = []
    if children.get(head_id):
        rows.append(row(head_id, own_only=True))
        rows.extend(row(c) for c in sorted(children[head_id], key=name_of))
    total = row(head_id)
    total["name"] = f"{name_of(head_id)} — total" if children.get(head_id) else name_of(head_id)
    head_sub = submissions.get(head_id)
    return {
        "period": period.name,
        "start": period.start,
        "end": period.end,
        "closed": period.is_closed(),
        "user_id": head_id,
        "rows": rows,
        "total": total,
        "submission": total["submission"] if head_sub else None,
    }


def forecast_territory_rollup(viewer, period_name: str, territory_id: int) -> dict:
    """Forecast figures for a territory subtree, over the deals the viewer may see."""
    period = parse_period(period_name)
    ids = territory_subtree_ids(territory_id)
    visible = Opportunity.objects.restrict(viewer, VIEW).values("pk")
    money = DecimalField(max_digits=20, decimal_places=2)
    in_open = Q(stage_id__in=OPEN_STAGE_KEYS, expected_close_date__gte=period.start, expected_close_date__lte=period.end)
    won = Q(stage_id="closed_won", actual_close_date__gte=period.start, actual_close_date__lte=period.end)
    agg = Opportunity.objects.filter(pk__in=visible, territory_id__in=ids).aggregate(
        closed_won=Coalesce(Sum("amount", filter=won), ZERO, output_field=money),
        commit=Coalesce(Sum("amount", filter=in_open & Q(forecast_category="commit")), ZERO, output_field=money),
        best_case=Coalesce(Sum("amount", filter=in_open & Q(forecast_category="best_case")), ZERO, output_field=money),
        pipeline=Coalesce(Sum("amount", filter=in_open & Q(forecast_category="pipeline")), ZERO, output_field=money),
        weighted=Coalesce(Sum(ExpressionWrapper(F("amount") * F("probability") / 100, output_field=money),
                              filter=in_open & ~Q(forecast_category="omitted")), ZERO, output_field=money),
    )
    return {"period": period.name, "territory_id": territory_id,
            **{k: Decimal(v).quantize(Decimal("0.01")) for k, v in agg.items()}}


def forecast_submission_list(viewer, *, period: str | None = None, user_id: int | None = None):
    """Submissions by the viewer and the people below them (admins: all), newest first."""
    qs = ForecastSubmission.objects.select_related("user")
    if viewer.role != Role.ADMIN:
        qs = qs.filter(user_id__in=user_subtree_ids(viewer.pk))
    if period:
        qs = qs.filter(period=parse_period(period).name)
    if user_id:
        qs = qs.filter(user_id=user_id)
    return qs


def forecast_adjustment_list(viewer, *, period: str | None = None, user_id: int | None = None):
    """The adjustment history the viewer may see: about themselves and their subtree (admins: all)."""
    qs = ForecastAdjustment.objects.select_related("user", "adjusted_by")
    if viewer.role != Role.ADMIN:
        qs = qs.filter(user_id__in=user_subtree_ids(viewer.pk))
    if period:
        qs = qs.filter(period=parse_period(period).name)
    if user_id:
        qs = qs.filter(user_id=user_id)
    return qs


def forecast_snapshot_list(viewer, *, period: str, user_id: int | None = None, scope: str | None = None):
    """Weekly snapshots for one person and period, oldest first (for the trend chart)."""
    uid = int(user_id or viewer.pk)
    if viewer.role != Role.ADMIN and uid not in user_subtree_ids(viewer.pk):
        raise Http404("No such user.")
    qs = ForecastSnapshot.objects.filter(user_id=uid, period=parse_period(period).name)
    if scope:
        qs = qs.filter(scope=scope)
    return qs.order_by("week_start")


def forecast_accuracy(viewer, period_name: str, *, user_id: int | None = None) -> list[dict]:
    """After a period has closed: each person's latest submitted commit (made by the period's end)
    against what was actually closed won in their scope (own deals for reps, subtree for managers).

    accuracy = 100 - |won - commit| / commit * 100, floored at 0 (100 when both are zero).
    """
    period = parse_period(period_name)
    if not period.is_closed():
        return []
    rollup = forecast_rollup(viewer, period.name, user_id=user_id)
    people = {r["user_id"]: r for r in rollup["rows"] if not r["own_only"]}
    people[rollup["user_id"]] = rollup["total"]
    subs = _latest_submissions(period, people.keys(), before=period.end)
    out = []
    for uid, r in people.items():
        sub = subs.get(uid)
        if sub is None:
            continue
        won, commit = r["closed_won"], sub.commit
        if commit == 0:
            accuracy = Decimal(100) if won == 0 else ZERO
        else:
            accuracy = max(ZERO, Decimal(100) - abs(won - commit) / commit * 100)
        out.append({"user_id": uid, "name": r["name"], "submitted_commit": commit, "closed_won": won,
                    "accuracy": accuracy.quantize(Decimal("0.1")), "submitted_at": sub.submitted_at,
                    "is_team": r.get("has_reports", False) or uid == rollup["user_id"] and len(people) > 1})
    return sorted(out, key=lambda x: (not x["is_team"], x["name"]))
