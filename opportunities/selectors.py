"""Reads for accounts, contacts, opportunities, the pipeline and forecasts.

Each read that serves a user takes that user (keyword-only) and goes through `restrict()`.
System reads for other apps, with no user, live in `opportunities.figures`.
Which stages are open, won and lost comes from `Stage` through `open_stage_keys()` and its siblings.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from opportunities.filtersets import AccountFilterSet, ContactFilterSet, OpportunityFilterSet
from opportunities.models import (
    Account,
    Contact,
    ForecastAdjustment,
    ForecastSnapshot,
    ForecastSubmission,
    LossReason,
    Opportunity,
    Stage,
)
from opportunities.periods import Period, parse_period
from salesapp import cache
from salesapp.access import CHANGE, VIEW
from salesapp.hierarchy import user_subtree_ids
from salesapp.models import User
from salesapp.normalize import domain_of, normalize_company
from salesapp.roles import Role
from salesapp.selectors import user_get
from territories.selectors import territory_subtree_ids

# The columns of a deal export (margin and cost only for roles the field policy allows).
EXPORT_COLUMNS = (
    "id", "name", "account_id", "account__name", "stage_id", "amount", "cost", "margin", "probability",
    "forecast_category", "expected_close_date", "actual_close_date", "owner__email", "territory__name",
    "loss_reason__name", "source", "next_step", "created_at",
)
PIPELINE_TTL = 60
PIPELINE_VERSION_KEY = "pipeline:version"
ZERO = Decimal("0")


# --- accounts and contacts -------------------------------------------------------------------------

def account_list(*, user, filters: dict | None = None, action: str = VIEW) -> QuerySet[Account]:
    """Accounts the user may see (or change), with owner and territory joined.

    Whoever sees a deal reads its account (implicit parent access, view only).
    """
    qs = Account.objects.restrict(user, action).select_related("owner", "territory")
    if filters:
        qs = AccountFilterSet(filters, queryset=qs, user=user).qs
    return qs


def account_get(*, user, pk, action: str = VIEW) -> Account:
    """One account the user may see (or change); 404 otherwise."""
    try:
        return account_list(user=user, action=action).select_related("parent").get(pk=pk)
    except (Account.DoesNotExist, ValueError, TypeError):
        raise Http404("No such account.")


def account_may_change(*, user, account: Account) -> bool:
    """Whether the user may change this account (reading it through one of its deals is not enough)."""
    return Account.objects.restrict(user, CHANGE).filter(pk=account.pk).exists()


def contact_list(*, user, filters: dict | None = None, action: str = VIEW) -> QuerySet[Contact]:
    """Contacts at accounts the user may see (or change)."""
    qs = Contact.objects.restrict(user, action).select_related("account", "owner")
    if filters:
        qs = ContactFilterSet(filters, queryset=qs, user=user).qs
    return qs


def contact_get(*, user, pk, action: str = VIEW) -> Contact:
    """One contact the user may see (or change); 404 otherwise."""
    try:
        return contact_list(user=user, action=action).get(pk=pk)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404("No such contact.")


# --- opportunities ---------------------------------------------------------------------------------

def opportunity_list(*, user, filters: dict | None = None, action: str = VIEW) -> QuerySet[Opportunity]:
    """Deals the user may see (or change), filtered like the UI list and the API."""
    qs = Opportunity.objects.restrict(user, action).select_related("account", "owner", "stage", "territory")
    if filters:
        qs = OpportunityFilterSet(filters, queryset=qs, user=user).qs
    return qs


def opportunity_history_list(*, user) -> QuerySet[Opportunity]:
    """Deals the user may see, archived ones included: for what counts history whole (analytics)."""
    return Opportunity.everything.restrict(user, VIEW).select_related("account", "owner", "stage", "territory")


def opportunity_archived_list(*, user) -> QuerySet[Opportunity]:
    """Archived deals the user may see, most recently closed first (read-only)."""
    return (Opportunity.archived.restrict(user, VIEW).select_related("account", "owner", "stage", "territory")
            .order_by("-actual_close_date", "-pk"))


def opportunity_archived_get(*, user, pk) -> Opportunity:
    """One archived deal the user may see; 404 otherwise."""
    try:
        return opportunity_archived_list(user=user).get(pk=pk)
    except (Opportunity.DoesNotExist, ValueError, TypeError):
        raise Http404("No such archived deal.")


def opportunity_get(*, user, pk, action: str = VIEW) -> Opportunity:
    """One deal the user may see; 404 otherwise (never 403, so ids cannot be probed)."""
    try:
        return opportunity_list(user=user, action=action).select_related("loss_reason").get(pk=pk)
    except (Opportunity.DoesNotExist, ValueError, TypeError):
        raise Http404("No such opportunity.")


# --- stages: the one source of which stages are open, won and lost ---------------------------------

def stage_list() -> QuerySet[Stage]:
    """Every pipeline stage in pipeline order (reference data, the same for everyone)."""
    return Stage.objects.order_by("order")


def open_stages() -> list[Stage]:
    """The open stages in pipeline order."""
    return list(Stage.objects.filter(is_closed=False).order_by("order"))


def _stage_keys(**flags) -> list[str]:
    return list(Stage.objects.filter(**flags).order_by("order").values_list("key", flat=True))


def open_stage_keys() -> list[str]:
    """Keys of the open stages, in pipeline order."""
    return _stage_keys(is_closed=False)


def closed_stage_keys() -> list[str]:
    """Keys of the stages that close a deal, won or lost."""
    return _stage_keys(is_closed=True)


def won_stage_keys() -> list[str]:
    """Keys of the stages that close a deal as won."""
    return _stage_keys(is_closed=True, is_won=True)


def lost_stage_keys() -> list[str]:
    """Keys of the stages that close a deal as lost."""
    return _stage_keys(is_closed=True, is_won=False)


def loss_reason_list() -> QuerySet[LossReason]:
    """The active loss reasons, by name (reference data)."""
    return LossReason.objects.filter(is_active=True).order_by("name")


# --- stages -----------------------------------------------------------------------------------------

STAGES_VERSION_KEY = "stages:version"


def stages_by_key() -> dict[str, Stage]:
    """The pipeline's stages by key, from the cache (reference data every deal write reads)."""
    key = f"stages:{cache.version(STAGES_VERSION_KEY)}"
    found = cache.get(key)
    if found is None:
        found = {stage.key: stage for stage in Stage.objects.order_by("order")}
        cache.set(key, found, 3600)
    return found


def stages_changed(**kwargs) -> None:
    """A stage was added, changed or removed: the cached stages are stale (now, and after commit)."""
    cache.version_bump(STAGES_VERSION_KEY)
    transaction.on_commit(lambda: cache.version_bump(STAGES_VERSION_KEY))


# --- pipeline summary ------------------------------------------------------------------------------

def pipeline_invalidate() -> None:
    """Make every cached pipeline summary stale (called on every opportunity event and territory realignment)."""
    cache.version_bump(PIPELINE_VERSION_KEY)


def pipeline_scope(*, user, owner=None, team=None, territory=None) -> QuerySet[Opportunity]:
    """Open deals the user may see, narrowed to an owner, a manager's subtree or a territory subtree."""
    qs = Opportunity.objects.restrict(user, VIEW).filter(stage_id__in=open_stage_keys())
    if owner:
        qs = qs.filter(owner_id=int(owner))
    if team:
        qs = qs.filter(owner_id__in=user_subtree_ids(int(team)))
    if territory:
        qs = qs.filter(territory_id__in=territory_subtree_ids(int(territory)))
    return qs


def pipeline_summary_uncached(*, user, owner=None, team=None, territory=None) -> dict:
    """Count, total amount and average probability per open stage: one grouped query."""
    money = DecimalField(max_digits=20, decimal_places=2)
    rows = (
        pipeline_scope(user=user, owner=owner, team=team, territory=territory)
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


def pipeline_summary(*, user, owner=None, team=None, territory=None) -> dict:
    """The pipeline summary, served from `pipeline:user:{userId}` (60 s) while no opportunity event
    has happened since it was computed; any opportunity event makes it stale at once.
    """
    owner, team, territory = (int(v) if v not in (None, "") else None for v in (owner, team, territory))
    key = pipeline_cache_key(user.pk)
    variant = f"{owner}:{team}:{territory}"
    version = cache.version(PIPELINE_VERSION_KEY)
    entry = cache.get(key)
    if entry and entry.get("version") == version and variant in entry["variants"]:
        return {**entry["variants"][variant], "cached": True}
    summary = pipeline_summary_uncached(user=user, owner=owner, team=team, territory=territory)
    variants = entry["variants"] if entry and entry.get("version") == version else {}
    variants[variant] = summary
    cache.set(key, {"version": version, "variants": variants}, PIPELINE_TTL)
    return {**summary, "cached": False}


# --- forecasts -------------------------------------------------------------------------------------

CATEGORY_FIELDS = ("closed_won", "commit", "best_case", "pipeline", "weighted")


def _empty_figures() -> dict:
    return dict.fromkeys(CATEGORY_FIELDS, ZERO)


def _figure_aggregates(period: Period) -> tuple[Q, dict]:
    """What a forecast counts in a period: won deals by close date; open deals expected to close in it,
    by forecast category, and their probability-weighted amount (omitted deals left out).
    """
    money = DecimalField(max_digits=20, decimal_places=2)
    in_open = Q(stage_id__in=open_stage_keys(), expected_close_date__gte=period.start,
                expected_close_date__lte=period.end)
    won = Q(stage_id__in=won_stage_keys(), actual_close_date__gte=period.start, actual_close_date__lte=period.end)
    aggregates = {
        "closed_won": Coalesce(Sum("amount", filter=won), ZERO, output_field=money),
        **{category: Coalesce(Sum("amount", filter=in_open & Q(forecast_category=category)), ZERO, output_field=money)
           for category in ("commit", "best_case", "pipeline")},
        "weighted": Coalesce(Sum(ExpressionWrapper(F("amount") * F("probability") / 100, output_field=money),
                                 filter=in_open & ~Q(forecast_category="omitted")), ZERO, output_field=money),
    }
    return in_open | won, aggregates


def _personal_figures(period: Period, *, user, owner_ids) -> dict[int, dict]:
    """Per owner among `owner_ids`, over the deals `user` may see: the figures of `_figure_aggregates`."""
    counted, aggregates = _figure_aggregates(period)
    rows = (Opportunity.objects.restrict(user, VIEW).filter(counted, owner_id__in=list(owner_ids))
            .order_by().values("owner_id").annotate(**aggregates))
    return {r.pop("owner_id"): {k: Decimal(v).quantize(Decimal("0.01")) for k, v in r.items()} for r in rows}


def _latest_adjustments(period: Period, *, user, user_ids) -> dict[int, dict[str, ForecastAdjustment]]:
    latest: dict[int, dict[str, ForecastAdjustment]] = defaultdict(dict)
    for adj in (ForecastAdjustment.objects.restrict(user, VIEW).filter(period=period.name, user_id__in=list(user_ids))
                .select_related("adjusted_by").order_by("created_at", "id")):
        latest[adj.user_id][adj.category] = adj  # later rows win
    return latest


def _latest_submissions(period: Period, *, user, user_ids, before=None) -> dict[int, ForecastSubmission]:
    latest = {}
    qs = ForecastSubmission.objects.restrict(user, VIEW).filter(period=period.name, user_id__in=list(user_ids))
    if before is not None:
        qs = qs.filter(submitted_at__date__lte=before)
    for sub in qs.order_by("submitted_at", "id"):
        latest[sub.user_id] = sub
    return latest


def forecast_rollup(*, user, period: str, user_id: int | None = None) -> dict:
    """The forecast for `user_id`'s team (default: the user's own) in one period.

    Rows: the head's own deals, then one row per direct report carrying that report's whole
    subtree; then the team total. Each row has raw figures and adjusted commit / best case,
    where a manager's adjustment of a person replaces that person's (subtree) figure, and the
    person's latest submission. Three queries however deep the hierarchy is.
    """
    period = parse_period(period)
    head_id = user_get(user=user, pk=int(user_id or user.pk)).pk
    subtree = user_subtree_ids(head_id)
    users = {u["id"]: u for u in User.objects.filter(pk__in=subtree).values(
        "id", "email", "first_name", "last_name", "manager_id", "role")}
    children = defaultdict(list)
    for u in users.values():
        if u["id"] != head_id and u["manager_id"] in users:
            children[u["manager_id"]].append(u["id"])
    may_adjust = user.role == Role.ADMIN or user.has_perm("salesapp.forecast:adjust")
    personal = _personal_figures(period, user=user, owner_ids=subtree)
    adjustments = _latest_adjustments(period, user=user, user_ids=subtree)
    submissions = _latest_submissions(period, user=user, user_ids=subtree)

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
        if uid != head_id or user.pk != head_id:
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
            "can_adjust": may_adjust and not own_only and uid != user.pk,
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


def forecast_territory_rollup(*, user, period: str, territory_id: int) -> dict:
    """Forecast figures for a territory subtree, over the deals the user may see."""
    period = parse_period(period)
    counted, aggregates = _figure_aggregates(period)
    agg = Opportunity.objects.restrict(user, VIEW).filter(
        counted, territory_id__in=territory_subtree_ids(territory_id)).aggregate(**aggregates)
    return {"period": period.name, "territory_id": territory_id,
            **{k: Decimal(v).quantize(Decimal("0.01")) for k, v in agg.items()}}


def forecast_submission_list(*, user, period: str | None = None, user_id: int | None = None):
    """Submissions by the user and the people below them (admins: all), newest first."""
    qs = ForecastSubmission.objects.restrict(user, VIEW).select_related("user")
    if period:
        qs = qs.filter(period=parse_period(period).name)
    if user_id:
        qs = qs.filter(user_id=user_id)
    return qs


def forecast_adjustment_list(*, user, period: str | None = None, user_id: int | None = None):
    """The adjustment history the user may see: about themselves and their subtree (admins: all)."""
    qs = ForecastAdjustment.objects.restrict(user, VIEW).select_related("user", "adjusted_by")
    if period:
        qs = qs.filter(period=parse_period(period).name)
    if user_id:
        qs = qs.filter(user_id=user_id)
    return qs


def forecast_snapshot_list(*, user, period: str, user_id: int | None = None, scope: str | None = None):
    """Weekly snapshots for one person (default: the user) and period, oldest first (for the trend chart)."""
    uid = user_get(user=user, pk=int(user_id or user.pk)).pk
    qs = ForecastSnapshot.objects.restrict(user, VIEW).filter(user_id=uid, period=parse_period(period).name)
    if scope:
        qs = qs.filter(scope=scope)
    return qs.order_by("week_start")


def forecast_accuracy(*, user, period: str, user_id: int | None = None) -> list[dict]:
    """After a period has closed: each person's latest submitted commit (made by the period's end)
    against what was actually closed won in their scope (own deals for reps, subtree for managers).

    accuracy = 100 - |won - commit| / commit * 100, floored at 0 (100 when both are zero).
    """
    period = parse_period(period)
    if not period.is_closed():
        return []
    rollup = forecast_rollup(user=user, period=period.name, user_id=user_id)
    people = {r["user_id"]: r for r in rollup["rows"] if not r["own_only"]}
    people[rollup["user_id"]] = rollup["total"]
    subs = _latest_submissions(period, user=user, user_ids=people.keys(), before=period.end)
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


# --- references of imports (ids by external id or natural key, among the records a user may see) ----------

def account_ids_by_external_id(values, *, user) -> dict[str, int]:
    return dict(Account.objects.restrict(user, VIEW).filter(external_id__in=values).values_list("external_id", "id"))


def account_ids_by_name(values, *, user) -> dict[str, int]:
    """Accounts by name (normalised) or website domain, as the account matcher compares them."""
    keys = {v: (normalize_company(v), domain_of(v)) for v in values}
    rows = (Account.objects.restrict(user, VIEW)
            .filter(Q(normalized_name__in={n for n, _d in keys.values() if n})
                    | Q(website_domain__in={d for _n, d in keys.values() if d}))
            .order_by("id").values_list("id", "normalized_name", "website_domain"))
    by_name, by_domain = {}, {}
    for pk, name, domain in rows:
        by_name.setdefault(name, pk)
        if domain:
            by_domain.setdefault(domain, pk)
    found = {}
    for value, (name, domain) in keys.items():
        pk = by_domain.get(domain) if domain else None
        pk = pk or by_name.get(name)
        if pk:
            found[value] = pk
    return found


def contact_ids_by_external_id(values, *, user) -> dict[str, int]:
    return dict(Contact.objects.restrict(user, VIEW).filter(external_id__in=values).values_list("external_id", "id"))


def opportunity_ids_by_external_id(values, *, user) -> dict[str, int]:
    return dict(Opportunity.objects.restrict(user, VIEW).filter(external_id__in=values)
                .values_list("external_id", "id"))
