"""Attainment: measuring quotas against won deals and completed activities.

One engine serves the full recompute, the event consumers and the live
measures of the roll-up, so all three give the same figures by construction:

- a user's quota counts the deals owned by the user or anyone in their
  reporting subtree (a manager's quota is the team's), closed won in the period;
- a territory's quota counts the won deals lying in the territory or below it;
- revenue sums the amounts, deals counts them, activities counts the
  activities completed by the user's subtree (territories have no activity quotas).

The deal figures come from one grouped query per period window (owner or
territory -> sum, count); subtree totals are added up in Python over the
kernel's reporting tree, which is loaded once.
"""

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.utils import timezone

from quotas import sources
from quotas.models import Quota
from salesapp import cache
from salesapp.events import publish_many
from salesapp.hierarchy import ReportingTree, user_ancestor_ids
from salesapp.locks import rows_lock

CENT = Decimal("0.01")
MAX_PERCENT = Decimal("9999999.99")
CACHE_TTL = 120
DEAL_TYPES = (Quota.Type.REVENUE, Quota.Type.DEALS)


def cache_key(user_id: int, period: str) -> str:
    """The seed's key for one user's attainment in one period."""
    return f"quota:user:{user_id}:{period}"


def cache_invalidate(pairs) -> None:
    """Forget cached attainment for (user_id, period) pairs."""
    keys = {cache_key(u, p) for u, p in pairs if u}
    if keys:
        cache.delete_many(list(keys))


def user_quota_rows(user_id: int, period: str) -> list[dict]:
    """Every quota of one user for one period as plain rows, from the cache (120 s) when there.

    System read shared by every reader: callers decide which of the rows their user may see.
    """
    key = cache_key(user_id, period)
    rows = cache.get(key)
    if rows is None:
        rows = [
            {
                "id": q["pk"],
                "quota_type": q["quota_type"],
                "status": q["status"],
                "quota_amount": str(q["quota_amount"]),
                "attainment_amount": str(q["attainment_amount"]),
                "attainment_percentage": str(q["attainment_percentage"]),
                "attained_at": q["attained_at"].isoformat() if q["attained_at"] else None,
            }
            for q in Quota.objects.filter(user_id=user_id, period=period).order_by("quota_type").values(
                "pk", "quota_type", "status", "quota_amount", "attainment_amount", "attainment_percentage",
                "attained_at")
        ]
        cache.set(key, rows, CACHE_TTL)
    return rows


def percentage(amount: Decimal, quota_amount: Decimal) -> Decimal:
    if not quota_amount or quota_amount <= 0:
        return Decimal("0.00")
    pct = (Decimal(amount) * 100 / Decimal(quota_amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(pct, MAX_PERCENT)


class Measurer:
    """Measures holders (users, territories) over windows, sharing queries between them."""

    def __init__(self):
        self._tree: ReportingTree | None = None
        self._territory_subtrees: dict[int, list[int]] = {}

    @property
    def tree(self) -> ReportingTree:
        if self._tree is None:
            self._tree = ReportingTree()
        return self._tree

    def territory_subtree(self, territory_id: int) -> list[int]:
        if territory_id not in self._territory_subtrees:
            self._territory_subtrees[territory_id] = sources.territory_subtree(territory_id)
        return self._territory_subtrees[territory_id]

    def measure(self, start: date, end: date, targets) -> dict:
        """`targets`: (kind, holder_id, quota_type) with kind "user" or "territory" -> measured Decimal."""
        targets = list(targets)
        result = {}
        user_deal = [t for t in targets if t[0] == "user" and t[2] in DEAL_TYPES]
        terr_deal = [t for t in targets if t[0] == "territory" and t[2] in DEAL_TYPES]
        if user_deal:
            subtrees = {uid: self.tree.subtree(uid) for _, uid, _ in user_deal}
            owners = set().union(*subtrees.values())
            # the owner filter only pays when few people are measured
            own = sources.won_totals(start, end, by="owner", owner_ids=sorted(owners) if len(owners) <= 500 else None)
            for target in user_deal:
                members = subtrees[target[1]]
                result[target] = self._combine(own, members, target[2])
        if terr_deal:
            subtrees = {tid: self.territory_subtree(tid) for _, tid, _ in terr_deal}
            ids = set().union(*subtrees.values())
            own = sources.won_totals(start, end, by="territory", territory_ids=sorted(ids))
            for target in terr_deal:
                result[target] = self._combine(own, subtrees[target[1]], target[2])
        for target in targets:
            if target[2] == Quota.Type.ACTIVITIES:
                if target[0] == "user":
                    users = self.tree.subtree(target[1])
                    result[target] = Decimal(sources.completed_activities(users, start, end))
                else:
                    result[target] = Decimal(0)
        return result

    @staticmethod
    def _combine(own: dict, members, quota_type: str) -> Decimal:
        if quota_type == Quota.Type.REVENUE:
            total = sum((own[m][0] for m in members if m in own), Decimal(0))
            return Decimal(total).quantize(CENT)
        return Decimal(sum(own[m][1] for m in members if m in own))


def measure_one(kind: str, holder_id: int, quota_type: str, start: date, end: date) -> Decimal:
    """Live attainment of one holder (for holders without a stored quota)."""
    target = (kind, holder_id, quota_type)
    return Measurer().measure(start, end, [target])[target]


_FIELDS = ("pk", "user_id", "territory_id", "quota_type", "start_date", "end_date", "period", "quota_amount",
           "attainment_amount", "attainment_percentage", "attained_at")


@transaction.atomic
def quotas_recompute(*, quota_ids=None, actor=None) -> dict:
    """Measure quotas (all of them, or these ids) from the source records and store what changed.

    Rows are locked first, so two recomputes of the same quota serialise and
    the later one reads the later data. A quota that reaches 100% for the
    first time is stamped and `quota.attained` is published, once.
    """
    qs = Quota.objects.all() if quota_ids is None else Quota.objects.filter(pk__in=list(quota_ids))
    rows = list(rows_lock(qs).values(*_FIELDS))
    if not rows:
        return {"quotas": 0, "changed": 0, "attained": []}
    windows = defaultdict(list)
    for row in rows:
        windows[(row["start_date"], row["end_date"])].append(row)
    measurer = Measurer()
    now = timezone.now()
    updates, attained, touched = [], [], set()
    for (start, end), window_rows in windows.items():
        targets = {row["pk"]: _target(row) for row in window_rows}
        measured = measurer.measure(start, end, set(targets.values()))
        for row in window_rows:
            amount = measured[targets[row["pk"]]]
            pct = percentage(amount, row["quota_amount"])
            newly = pct >= 100 and row["attained_at"] is None
            if amount != row["attainment_amount"] or pct != row["attainment_percentage"] or newly:
                updates.append((amount, pct, now if newly else None, now, row["pk"]))
                touched.add((row["user_id"], row["period"]))
            if newly:
                attained.append((row, pct))
    if updates:
        _write(updates)
    # One insert for every quota that crossed 100%, however many: consumers apply them in the worker.
    publish_many("quota.attained", [{
        "quota_id": row["pk"], "attainment_percentage": str(pct), "user_id": row["user_id"],
        "territory_id": row["territory_id"], "period": row["period"], "quota_type": row["quota_type"],
    } for row, pct in attained], actor=actor)
    transaction.on_commit(lambda: cache_invalidate(touched))
    return {"quotas": len(rows), "changed": len(updates), "attained": [row["pk"] for row, _ in attained]}


def _target(row) -> tuple:
    if row["user_id"]:
        return ("user", row["user_id"], row["quota_type"])
    return ("territory", row["territory_id"], row["quota_type"])


def _write(updates: list[tuple]) -> None:
    # executemany is pipelined by psycopg 3: thousands of rows in one round of trips.
    table = connection.ops.quote_name(Quota._meta.db_table)
    sql = (
        # Security review 2026-12-02 (bandit B608): only table and column names from model metadata are interpolated; values are bound parameters.
        f"UPDATE {table} SET attainment_amount = %s, attainment_percentage = %s, "  # nosec B608
        f"attained_at = COALESCE(attained_at, %s), updated_at = %s WHERE id = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, updates)


# --- which quotas an event touches ---------------------------------------------------------


def payload_day(value: str | None) -> date | None:
    """The day of an ISO date or date-time an event carries (None when the event has none)."""
    return date.fromisoformat(value[:10]) if value else None


def quotas_for_deal(payload: dict, *, any_holder: bool = False, any_period: bool = False) -> list[Quota]:
    """Revenue and deal quotas a deal can move.

    Those of the owner and everyone above them, and of territories whose subtree
    holds the deal's territory, in the periods containing the close date. Events
    carry the deal as it is now: when its owner or territory moved, the quotas it
    left are unknown, so `any_holder` takes every holder; when its close date moved,
    `any_period` takes every period.
    """
    owner_id = payload["owner_id"]
    territory_id = payload["territory_id"]
    day = payload_day(payload["actual_close_date"])
    qs = Quota.objects.filter(quota_type__in=DEAL_TYPES)
    if day and not any_period:
        qs = qs.filter(start_date__lte=day, end_date__gte=day)
    if any_holder:
        return list(qs.only("pk", "user_id", "period"))
    found = []
    if owner_id:
        found.extend(qs.filter(user_id__in=[owner_id, *user_ancestor_ids(owner_id)]).only("pk", "user_id", "period"))
    if territory_id:
        measurer = Measurer()
        for quota in qs.filter(territory__isnull=False).only("pk", "territory_id", "user_id", "period"):
            if territory_id in measurer.territory_subtree(quota.territory_id):
                found.append(quota)
    return found


def quotas_for_activity(payload: dict) -> list[Quota]:
    """Activity quotas of the user who completed it and everyone above them, for that day."""
    user_id = payload["user_id"]
    if not user_id:
        return []
    day = payload_day(payload["completed_at"] or payload["occurred_at"])
    qs = Quota.objects.filter(quota_type=Quota.Type.ACTIVITIES, user_id__in=[user_id, *user_ancestor_ids(user_id)])
    if day:
        qs = qs.filter(start_date__lte=day, end_date__gte=day)
    return list(qs.only("pk", "user_id", "period"))
