"""Quota writes: set, change, delete, publish, allocate down the hierarchy.

Only `quota:set` holders (admins, sales managers) write quotas. The person a
quota is set for and the territory it is set on are picked under the kernel's
assignment policy: a manager sets quotas for themselves and their reporting
subtree, an admin for any active writer, and territories only among those the
actor can see. Every write re-measures the quota it touches and publishes
`quota.set` or `quota.updated`.
"""

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from quotas import attainment
from quotas.models import Quota
from salesapp.assignment import assignable_users, assignee_check, territory_check
from salesapp.events import publish
from salesapp.guards import require_permission
from salesapp.models import User
from salesapp.periods import parse_period
from territories.selectors import territory_list

SET_PERMISSION = "quota:set"

EVEN, HISTORY, MANUAL = "even", "history", "manual"
METHODS = (EVEN, HISTORY, MANUAL)


def _amount(value, field_name: str = "quota_amount") -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field_name: [f"{value!r} is not a number."]})
    if amount < 0:
        raise ValidationError({field_name: ["A quota cannot be negative."]})
    if amount >= Decimal("1e14"):
        raise ValidationError({field_name: ["That quota is too large."]})
    return amount


def _check_holder(actor, *, user, territory, quota_type: str) -> None:
    """The holder is one user or one territory, the actor may pick it, and it may hold this type."""
    if (user is None) == (territory is None):
        raise ValidationError({"user": ["A quota belongs to a user or to a territory (exactly one)."]})
    if quota_type not in Quota.Type.values:
        raise ValidationError({"quota_type": [f"{quota_type!r} is not one of {', '.join(Quota.Type.values)}."]})
    if territory is not None and quota_type == Quota.Type.ACTIVITIES:
        raise ValidationError({"quota_type": ["Territories have revenue and deal quotas, not activity quotas."]})
    assignee_check(actor=actor, assignee=user, field="user")
    territory_check(actor=actor, territory=territory, field="territory")


def _payload(quota: Quota, **extra) -> dict:
    return {
        "quota_id": quota.pk,
        "user_id": quota.user_id,
        "territory_id": quota.territory_id,
        "period": quota.period,
        "quota_type": quota.quota_type,
        "quota_amount": str(quota.quota_amount),
        "status": quota.status,
        **extra,
    }


def _forget_on_commit(quota: Quota) -> None:
    pair = {(quota.user_id, quota.period)}
    transaction.on_commit(lambda: attainment.cache_invalidate(pair))


def check_new_quota(*, actor, user, territory, period: str, quota_type: str) -> None:
    """What must hold before a holder gets a new quota: rights, one holder, the type, no duplicate."""
    require_permission(actor, SET_PERMISSION)
    window = parse_period(period)
    _check_holder(actor, user=user, territory=territory, quota_type=quota_type)
    holder = {"user": user} if user is not None else {"territory": territory}
    if Quota.objects.filter(period=window.key, quota_type=quota_type, **holder).exists():
        raise ValidationError({"period": [f"{user or territory} already has a {quota_type} quota for {window.key}."]})


@transaction.atomic
def quota_create(*, actor, period: str, quota_amount, quota_type: str = Quota.Type.REVENUE, user: User | None = None,
                 territory=None, parent: Quota | None = None, status: str = Quota.Status.DRAFT) -> Quota:
    """Set a new quota for a user or a territory; its attainment is measured at once."""
    window = parse_period(period)
    amount = _amount(quota_amount)
    check_new_quota(actor=actor, user=user, territory=territory, period=window.key, quota_type=quota_type)
    if status not in Quota.Status.values:
        raise ValidationError({"status": [f"{status!r} is not draft or published."]})
    if parent is not None and (parent.period != window.key or parent.quota_type != quota_type):
        raise ValidationError({"parent": ["The parent quota must be for the same period and type."]})
    holder = {"user": user} if user is not None else {"territory": territory}
    quota = Quota.objects.create(
        **holder, period=window.key, period_kind=window.kind, start_date=window.start, end_date=window.end,
        quota_type=quota_type, quota_amount=amount, parent=parent, status=status, created_by=actor,
    )
    attainment.quotas_recompute(quota_ids=[quota.pk], actor=actor)
    quota.refresh_from_db()
    publish("quota.set", _payload(quota), actor=actor)
    _forget_on_commit(quota)
    return quota


_UNSET = object()


@transaction.atomic
def quota_update(*, actor, quota: Quota, quota_amount=None, status: str | None = None, parent=_UNSET) -> Quota:
    """Change a quota's amount, state or parent; the percentage follows the new amount.

    The holder stays: callers reach the quota through restrict(user, "change").
    """
    require_permission(actor, SET_PERMISSION)
    changes = {}
    if quota_amount is not None:
        amount = _amount(quota_amount)
        if amount != quota.quota_amount:
            changes["quota_amount"] = [str(quota.quota_amount), str(amount)]
            quota.quota_amount = amount
    if status is not None:
        if status not in Quota.Status.values:
            raise ValidationError({"status": [f"{status!r} is not draft or published."]})
        if status != quota.status:
            changes["status"] = [quota.status, status]
            quota.status = status
    if parent is not _UNSET and (parent.pk if parent else None) != quota.parent_id:
        if parent is not None and (parent.period != quota.period or parent.quota_type != quota.quota_type
                                   or parent.pk == quota.pk):
            raise ValidationError({"parent": ["The parent quota must be another quota of the same period and type."]})
        changes["parent_id"] = [quota.parent_id, parent.pk if parent else None]
        quota.parent = parent
    if not changes:
        return quota
    quota.save()
    if "quota_amount" in changes:
        attainment.quotas_recompute(quota_ids=[quota.pk], actor=actor)
        quota.refresh_from_db()
    publish("quota.updated", _payload(quota, changes=changes), actor=actor)
    _forget_on_commit(quota)
    return quota


@transaction.atomic
def quota_delete(*, actor, quota: Quota) -> None:
    """Remove a quota; quotas allocated from it keep their amounts and lose the link.

    Callers reach the quota through restrict(user, "delete").
    """
    require_permission(actor, SET_PERMISSION)
    payload = _payload(quota, deleted=True)
    _forget_on_commit(quota)
    quota.delete()
    publish("quota.updated", payload, actor=actor)


def quota_set(*, actor, period: str, quota_amount, quota_type: str = Quota.Type.REVENUE, user=None, territory=None,
              status: str | None = None, parent=_UNSET) -> tuple[Quota, bool]:
    """Create or change the quota of a holder for a period and type; returns (quota, created).

    The actor picks the holder either way, so the pick is judged either way.
    """
    window = parse_period(period)
    holder = {"user": user} if user is not None else {"territory": territory}
    existing = None
    if user is not None or territory is not None:
        existing = Quota.objects.filter(period=window.key, quota_type=quota_type, **holder).first()
    if existing is None:
        return quota_create(actor=actor, period=window.key, quota_amount=quota_amount, quota_type=quota_type,
                            user=user, territory=territory, parent=None if parent is _UNSET else parent,
                            status=status or Quota.Status.DRAFT), True
    require_permission(actor, SET_PERMISSION)
    _check_holder(actor, user=user, territory=territory, quota_type=quota_type)
    return quota_update(actor=actor, quota=existing, quota_amount=quota_amount, status=status, parent=parent), False


@transaction.atomic
def quotas_publish(*, actor, quotas) -> int:
    """Publish draft quotas so their holders see them."""
    count = 0
    for quota in quotas:
        if quota.status != Quota.Status.PUBLISHED:
            quota_update(actor=actor, quota=quota, status=Quota.Status.PUBLISHED)
            count += 1
    return count


@transaction.atomic
def quotas_bulk_set(*, actor, period: str, quota_type: str, quota_amount, users=(), territories=(),
                    status: str = Quota.Status.DRAFT) -> dict:
    """Give every listed user and territory the same quota for a period (admin bulk setup)."""
    created = updated = 0
    for holder in [("user", u) for u in users] + [("territory", t) for t in territories]:
        _, was_created = quota_set(actor=actor, period=period, quota_type=quota_type, quota_amount=quota_amount,
                                   status=status, **{holder[0]: holder[1]})
        created += was_created
        updated += not was_created
    return {"created": created, "updated": updated}


# --- allocation -----------------------------------------------------------------------------


@dataclass
class AllocationRow:
    """One child's share of an allocation."""

    kind: str
    holder_id: int
    name: str
    amount: Decimal
    current: Decimal | None = None
    basis: Decimal | None = None


@dataclass
class AllocationPlan:
    """How a quota is split among the children of its holder, and the gap left."""

    quota: Quota
    method: str
    rows: list[AllocationRow] = field(default_factory=list)
    note: str = ""

    @property
    def allocated(self) -> Decimal:
        return sum((r.amount for r in self.rows), Decimal(0))

    @property
    def gap(self) -> Decimal:
        return self.quota.quota_amount - self.allocated

    @property
    def state(self) -> str:
        return allocation_state(self.gap)


def allocation_state(gap: Decimal) -> str:
    if gap < 0:
        return "over"
    if gap > 0:
        return "under"
    return "balanced"


def allocation_children(quota: Quota, *, actor) -> list[tuple[str, object]]:
    """The holders a quota is allocated to: the direct reports `actor` may set quotas for, or the
    active child territories they can see."""
    if quota.user_id:
        return [("user", u) for u in assignable_users(actor).filter(manager_id=quota.user_id)]
    children = territory_list(user=actor).filter(parent_id=quota.territory_id, is_active=True).order_by("name")
    return [("territory", t) for t in children]


def _split(total: Decimal, weights: list[Decimal], unit: Decimal) -> list[Decimal]:
    """Split `total` in proportion to `weights`, in whole `unit`s, so the parts add up exactly."""
    units = int((total / unit).to_integral_value(rounding=ROUND_DOWN))
    weight_sum = sum(weights)
    raw = [Decimal(units) * w / weight_sum for w in weights]
    parts = [int(r.to_integral_value(rounding=ROUND_DOWN)) for r in raw]
    # largest remainders get the units left over, earliest first on ties
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[: units - sum(parts)]:
        parts[i] += 1
    return [Decimal(p) * unit for p in parts]


def allocation_plan(*, actor, quota: Quota, method: str, amounts: dict | None = None) -> AllocationPlan:
    """What an allocation would give each child (nothing is written)."""
    if method not in METHODS:
        raise ValidationError({"method": [f"{method!r} is not one of {', '.join(METHODS)}."]})
    children = allocation_children(quota, actor=actor)
    if not children:
        raise ValidationError({"method": [f"{quota.holder} has no reports or child territories to allocate to."]})
    current = {
        (("user", q.user_id) if q.user_id else ("territory", q.territory_id)): q.quota_amount
        for q in _child_quotas(quota, children)
    }
    plan = AllocationPlan(quota=quota, method=method)
    unit = Decimal("0.01") if quota.quota_type == Quota.Type.REVENUE else Decimal(1)
    if method == MANUAL:
        given = {str(k): v for k, v in (amounts or {}).items()}
        known = {str(h.pk) for _, h in children}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ValidationError({"amounts": [f"Not a direct report or child territory: {', '.join(unknown)}."]})
        for kind, holder in children:
            value = given.get(str(holder.pk))
            amount = _amount(value, "amounts") if value not in (None, "") else current.get((kind, holder.pk))
            if amount is None:
                continue
            plan.rows.append(AllocationRow(kind, holder.pk, str(holder), amount, current.get((kind, holder.pk))))
        return plan
    weights = [Decimal(1)] * len(children)
    if method == HISTORY:
        previous = parse_period(quota.period).previous()
        targets = [(kind, holder.pk, quota.quota_type) for kind, holder in children]
        measured = attainment.Measurer().measure(previous.start, previous.end, targets)
        history = [measured[t] for t in targets]
        if sum(history) > 0:
            weights = history
            plan.note = f"In proportion to what each attained in {previous.key}."
        else:
            plan.note = f"Nothing was attained in {previous.key}: split evenly instead."
        bases = history
    else:
        bases = [None] * len(children)
    parts = _split(quota.quota_amount, weights, unit)
    for (kind, holder), amount, basis in zip(children, parts, bases, strict=True):
        plan.rows.append(AllocationRow(kind, holder.pk, str(holder), amount, current.get((kind, holder.pk)), basis))
    return plan


def _child_quotas(quota: Quota, children) -> list[Quota]:
    kind = children[0][0] if children else "user"
    ids = [h.pk for _, h in children]
    lookup = {"user_id__in": ids} if kind == "user" else {"territory_id__in": ids}
    return list(Quota.objects.filter(period=quota.period, quota_type=quota.quota_type, **lookup))


def allocation_summary(quota: Quota, *, actor) -> dict:
    """Parent amount, what its children's quotas add up to, and the gap (negative: over-allocated)."""
    children = allocation_children(quota, actor=actor)
    allocated = sum((q.quota_amount for q in _child_quotas(quota, children)), Decimal(0)) if children else Decimal(0)
    gap = quota.quota_amount - allocated
    return {"quota_amount": quota.quota_amount, "allocated": allocated, "gap": gap, "state": allocation_state(gap)}


@transaction.atomic
def quota_allocate(*, actor, quota: Quota, method: str, amounts: dict | None = None) -> AllocationPlan:
    """Split a quota among direct reports or child territories: evenly, by last period, or by hand.

    Over-allocation is allowed (common practice); the plan reports the gap.
    Child quotas are created or changed with this quota as their parent and
    take its draft/published state.
    """
    require_permission(actor, SET_PERMISSION)
    plan = allocation_plan(actor=actor, quota=quota, method=method, amounts=amounts)
    children = {h.pk: h for _, h in allocation_children(quota, actor=actor)}
    for row in plan.rows:
        holder = {row.kind: children[row.holder_id]}
        quota_set(actor=actor, period=quota.period, quota_type=quota.quota_type, quota_amount=row.amount,
                  status=quota.status, parent=quota, **holder)
    return plan
