"""Demo quotas: the demo team's targets for the previous and the current quarter."""

from decimal import ROUND_CEILING, Decimal

from django.db import transaction

from quotas import services
from quotas.attainment import measure_one
from quotas.models import Quota
from salesapp.demo import register_loader
from salesapp.periods import current_quarter
from territories.selectors import territory_list


def _target(manager, quota_type: str, period, *, factor: str, step: int, floor: int) -> Decimal:
    """A stretch on what the team attained in `period`, rounded to `step`, never below `floor`."""
    attained = measure_one("user", manager.pk, quota_type, period.start, period.end)
    target = (attained * Decimal(factor) / step).to_integral_value(rounding=ROUND_CEILING) * step
    return max(target, Decimal(floor))


def load(users: dict) -> None:
    """The manager's revenue, deal and activity targets, allocated to the three reps.

    Targets are sized on the team's past quarter, and the intelligence loader
    (order 60) adds most of that history after us: so the quotas are set once
    the demo data has committed (at once when no transaction is open).
    """
    transaction.on_commit(lambda: _load(users))


def _load(users: dict) -> None:
    admin, manager = users["admin"], users["manager"]
    current = current_quarter()
    previous = current.previous()
    published = Quota.Status.PUBLISHED
    plans = [
        (Quota.Type.REVENUE, "1.05", 50000, 300000),
        (Quota.Type.DEALS, "1.0", 3, 12),
        (Quota.Type.ACTIVITIES, "1.1", 30, 90),
    ]
    for period, factor_period, method in ((previous, previous, services.EVEN),
                                          (current, previous, services.HISTORY)):
        for quota_type, factor, step, floor in plans:
            amount = _target(manager, quota_type, factor_period, factor=factor if period == previous else "1.15",
                             step=step, floor=floor)
            team, _ = services.quota_set(actor=admin, user=manager, period=period.key, quota_type=quota_type,
                                         quota_amount=amount, status=published)
            services.quota_allocate(actor=admin, quota=team,
                                    method=method if quota_type == Quota.Type.REVENUE else services.EVEN)
    _territory_quota(admin, current.key)


def _territory_quota(admin, period: str) -> None:
    roots = territory_list(user=admin).filter(parent__isnull=True, is_active=True)
    root = (roots.filter(model__state="active") or roots).order_by("pk").first()
    if root is None:
        return
    window = current_quarter()
    amount = measure_one("territory", root.pk, Quota.Type.REVENUE, window.previous().start, window.previous().end)
    amount = max((amount * Decimal("1.1") / 50000).to_integral_value(rounding=ROUND_CEILING) * 50000,
                 Decimal(500000))
    quota, _ = services.quota_set(actor=admin, territory=root, period=period, quota_type=Quota.Type.REVENUE,
                                  quota_amount=amount, status=Quota.Status.PUBLISHED)
    if services.allocation_children(quota, actor=admin):
        services.quota_allocate(actor=admin, quota=quota, method=services.EVEN)


def register() -> None:
    register_loader(50, "quotas", load)
